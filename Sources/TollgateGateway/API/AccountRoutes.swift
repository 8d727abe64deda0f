import Hummingbird
import TollgateModel
import TollgateStorage

/// `/api/v1/accounts` and `/api/v1/accounts/{account}/gateways`.
struct AccountRoutes<Context: RequestContext> {
    let api: APIServices

    func register(on group: RouterGroup<Context>) {
        group.on(.createAccount, prefix: Route.apiPrefix) { _, _, input in try await createAccount(input) }
        group.on(.listAccounts, prefix: Route.apiPrefix) { _, _, _ in try await listAccounts() }
        group.on(.getAccount, prefix: Route.apiPrefix) { _, context, _ in try await getAccount(context) }
        group.on(.createGateway, prefix: Route.apiPrefix) { _, context, input in
            try await createGateway(input, context)
        }
        group.on(.listGateways, prefix: Route.apiPrefix) { _, context, _ in try await listGateways(context) }
        group.on(.getGateway, prefix: Route.apiPrefix) { _, context, _ in try await getGateway(context) }
        group.on(.updateGateway, prefix: Route.apiPrefix) { _, context, input in
            try await updateGateway(input, context)
        }
    }

    private func createAccount(_ input: RouteInput) async throws -> Response {
        let id = input.body.text("id")!
        let tier = input.body.text("tier") ?? "free"
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

    private func createGateway(_ input: RouteInput, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let body = input.body
        let id = body.text("id")!
        let collectLogs = body.bool("collect_logs") ?? true
        let streamUsage = body.bool("stream_usage") ?? true
        let authentication = body.bool("authentication") ?? false
        let retention = body.integerSetting("retention_days").map { $0.map { Int($0) } }
        let gateway = try await api.blocking {
            let created = try api.catalog.createGateway(
                account: account.id, id: id, collectLogs: collectLogs, streamUsage: streamUsage,
                authentication: authentication)
            guard let retention else { return created }
            return try api.catalog.updateGateway(account: account.id, id: id, retentionDays: retention) ?? created
        }
        api.directory.upsert(.init(gateway))
        return json(status: .created) { $0.gateway(gateway) }
    }

    /// `PATCH …/gateways/{gateway}`: changes the settings the body names and answers the updated gateway.
    private func updateGateway(_ input: RouteInput, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let id = try context.parameters.require("gateway")
        let body = input.body
        let collectLogs = body.bool("collect_logs")
        let streamUsage = body.bool("stream_usage")
        let authentication = body.bool("authentication")
        let retention = body.integerSetting("retention_days").map { $0.map { Int($0) } }
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

extension Route {
    static let createAccount = Route(
        .post, "/api/v1/accounts", "Creates an account: 201 with the account.",
        body: [
            Field("id", .identifier, "the account's id", required: true),
            Field(
                "tier", .choice(["free", "paid"]),
                "`free` (100,000 logs a month, the default) or `paid` (1,000,000)"),
        ])
    static let listAccounts = Route(.get, "/api/v1/accounts", "Every account.")
    static let getAccount = Route(
        .get, "/api/v1/accounts/{account}", "One account: tier, log limit, log strategy, retention.")

    /// The settings a gateway takes on creation and on `PATCH`.
    static let gatewaySettings: [Field] = [
        Field("collect_logs", .boolean, "store each request's log (default `true`); when false, usage only"),
        Field(
            "stream_usage", .boolean,
            "ask OpenAI-style streams for their usage so they can be priced (default `true`)"),
        Field(
            "authentication", .boolean,
            "forward only requests with a valid `cf-aig-authorization` account token (default `false`)"),
        Field(
            "retention_days", .integer(1...36_500), "days logs are kept; null: the account's", nullable: true),
    ]
    static let createGateway = Route(
        .post, "/api/v1/accounts/{account}/gateways", "Creates a gateway: 201 with its settings.",
        body: [Field("id", .identifier, "the gateway's id, as in proxy paths", required: true)] + gatewaySettings)
    static let listGateways = Route(.get, "/api/v1/accounts/{account}/gateways", "The account's gateways.")
    static let getGateway = Route(.get, "/api/v1/accounts/{account}/gateways/{gateway}", "One gateway's settings.")
    static let updateGateway = Route(
        .patch, "/api/v1/accounts/{account}/gateways/{gateway}",
        "Changes the settings the body names, in force for the next request; answers the gateway.",
        body: gatewaySettings)
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

extension GatewayDirectory.Entry {
    /// What the proxy needs of a stored gateway.
    init(_ gateway: GatewayRecord) {
        self.init(
            account: gateway.account, gateway: gateway.id, collectLogs: gateway.collectLogs,
            streamUsage: gateway.streamUsage, authentication: gateway.authentication)
    }
}
