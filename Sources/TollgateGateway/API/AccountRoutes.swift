import Hummingbird
import TollgateModel
import TollgateStorage

/// `/api/v1/accounts` and `/api/v1/accounts/{account}/gateways`.
struct AccountRoutes<Context: RequestContext> {
    let api: APIServices

    func register(on group: RouterGroup<Context>) {
        group.post("accounts") { request, context in try await createAccount(request, context) }
        group.get("accounts") { _, _ in try await listAccounts() }
        group.get("accounts/:account") { _, context in try await getAccount(context) }
        group.post("accounts/:account/gateways") { request, context in try await createGateway(request, context) }
        group.get("accounts/:account/gateways") { _, context in try await listGateways(context) }
        group.get("accounts/:account/gateways/:gateway") { _, context in try await getGateway(context) }
        group.patch("accounts/:account/gateways/:gateway") { request, context in
            try await updateGateway(request, context)
        }
    }

    private func createAccount(_ request: Request, _ context: Context) async throws -> Response {
        let body = try await JSONBody(request, context)
        let id = try body.identifier("id")
        let tier = try body.string("tier", default: "free", allowed: ["free", "paid"])
        let account = try await api.blocking { try api.catalog.createAccount(id: id, tier: tier) }
        api.quota.update(account)
        return json(status: .created) { $0.account(account) }
    }

    private func listAccounts() async throws -> Response {
        let accounts = try await api.blocking { try api.catalog.accounts() }
        return jsonList("accounts", accounts) { $0.account($1) }
    }

    private func getAccount(_ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        return json { $0.account(account) }
    }

    private func createGateway(_ request: Request, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let body = try await JSONBody(request, context)
        let id = try body.identifier("id")
        let collectLogs = try body.bool("collect_logs", default: true)
        let streamUsage = try body.bool("stream_usage", default: true)
        let authentication = try body.bool("authentication", default: false)
        let gateway = try await api.blocking {
            try api.catalog.createGateway(
                account: account.id, id: id, collectLogs: collectLogs, streamUsage: streamUsage,
                authentication: authentication)
        }
        api.directory.upsert(.init(gateway))
        return json(status: .created) { $0.gateway(gateway) }
    }

    /// `PATCH …/gateways/{gateway}` with any of `collect_logs`, `stream_usage`, `authentication`, `retention_days`
    /// (days, or null for the account's); answers the updated gateway.
    private func updateGateway(_ request: Request, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let id = try context.parameters.require("gateway")
        let body = try await JSONBody(request, context)
        let collectLogs = try body.optionalBool("collect_logs")
        let streamUsage = try body.optionalBool("stream_usage")
        let authentication = try body.optionalBool("authentication")
        let retention = try body.optionalCount("retention_days", minimum: 1).map { $0.map { Int($0) } }
        let updated = try await api.blocking {
            try api.catalog.updateGateway(
                account: account.id, id: id, collectLogs: collectLogs, streamUsage: streamUsage,
                authentication: authentication, retentionDays: retention)
        }
        guard let gateway = updated else { throw APIError.notFound("gateway \(id)") }
        api.directory.upsert(.init(gateway))
        return json { $0.gateway(gateway) }
    }

    private func listGateways(_ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let gateways = try await api.blocking { try api.catalog.gateways(account: account.id) }
        return jsonList("gateways", gateways) { $0.gateway($1) }
    }

    private func getGateway(_ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let id = try context.parameters.require("gateway")
        guard let gateway = try await api.blocking({ try api.catalog.gateway(account: account.id, id: id) }) else {
            throw APIError.notFound("gateway \(id)")
        }
        return json { $0.gateway(gateway) }
    }
}

extension JSONWriter {
    mutating func account(_ account: Account) {
        beginObject()
        key("id"); string(account.id)
        key("tier"); string(account.tier.rawValue)
        key("log_limit"); int(account.monthlyLogLimit)
        key("log_management_strategy"); string(account.logManagementStrategy.rawValue)
        key("retention_days"); int(account.effectiveRetentionDays)
        key("created_at"); string(RFC3339.format(milliseconds: account.createdAt))
        endObject()
    }

    mutating func gateway(_ gateway: GatewayRecord) {
        beginObject()
        key("id"); string(gateway.id)
        key("account"); string(gateway.account)
        key("collect_logs"); bool(gateway.collectLogs)
        key("stream_usage"); bool(gateway.streamUsage)
        key("authentication"); bool(gateway.authentication)
        key("retention_days"); int(gateway.retentionDays.map { Int64($0) })
        key("created_at"); string(RFC3339.format(milliseconds: gateway.createdAt))
        endObject()
    }
}

/// A JSON request body read as an object, with typed fields; each failure names the field.
struct JSONBody {
    let object: [String: JSONValue]

    init(_ request: Request, _ context: some RequestContext) async throws {
        let buffer = try await request.body.collect(upTo: 1 << 20)
        guard buffer.readableBytes > 0 else {
            throw APIError(.badRequest, code: "invalid_body", message: "expected a JSON object body")
        }
        guard case .object(let object) = try? JSONParser.parse(Array(buffer.readableBytesView)) else {
            throw APIError(.badRequest, code: "invalid_body", message: "body is not a JSON object")
        }
        self.object = object
    }

    func identifier(_ name: String) throws -> String {
        guard case .string(let value) = object[name] else {
            throw APIError.badParameter(name, "required string")
        }
        guard Identifier.isValid(value) else {
            throw APIError.badParameter(name, "must match [a-z0-9][a-z0-9-]{0,63}")
        }
        return value
    }

    func string(_ name: String, default fallback: String, allowed: [String]) throws -> String {
        guard let raw = object[name] else { return fallback }
        guard case .string(let value) = raw, allowed.contains(value) else {
            throw APIError.badParameter(name, "expected one of \(allowed.joined(separator: ", "))")
        }
        return value
    }

    func bool(_ name: String, default fallback: Bool) throws -> Bool {
        try optionalBool(name) ?? fallback
    }

    /// The field's value, or nil when the body does not have it.
    func optionalBool(_ name: String) throws -> Bool? {
        guard let raw = object[name] else { return nil }
        guard case .bool(let value) = raw else { throw APIError.badParameter(name, "expected true or false") }
        return value
    }
}

extension GatewayDirectory.Entry {
    /// What the proxy needs of a stored gateway.
    init(_ gateway: GatewayRecord) {
        self.init(
            account: gateway.account, gateway: gateway.id, collectLogs: gateway.collectLogs,
            streamUsage: gateway.streamUsage, authentication: gateway.authentication)
    }
}
