import Foundation
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
    }

    private func createAccount(_ request: Request, _ context: Context) async throws -> Response {
        let body = try await JSONBody(request, context)
        let id = try body.identifier("id")
        let tier = try body.string("tier", default: "free", allowed: ["free", "paid"])
        let account = try await api.blocking { try api.catalog.createAccount(id: id, tier: tier) }
        return json(status: .created) { $0.account(account) }
    }

    private func listAccounts() async throws -> Response {
        let accounts = try await api.blocking { try api.catalog.accounts() }
        return json {
            $0.beginObject()
            $0.key("accounts")
            $0.beginArray()
            for account in accounts { $0.account(account) }
            $0.endArray()
            $0.endObject()
        }
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
        let gateway = try await api.blocking {
            try api.catalog.createGateway(account: account.id, id: id, collectLogs: collectLogs)
        }
        api.directory.upsert(.init(account: gateway.account, gateway: gateway.id, collectLogs: gateway.collectLogs))
        return json(status: .created) { $0.gateway(gateway) }
    }

    private func listGateways(_ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let gateways = try await api.blocking { try api.catalog.gateways(account: account.id) }
        return json {
            $0.beginObject()
            $0.key("gateways")
            $0.beginArray()
            for gateway in gateways { $0.gateway(gateway) }
            $0.endArray()
            $0.endObject()
        }
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
        key("created_at"); string(RFC3339.format(milliseconds: account.createdAt))
        endObject()
    }

    mutating func gateway(_ gateway: GatewayRecord) {
        beginObject()
        key("id"); string(gateway.id)
        key("account"); string(gateway.account)
        key("collect_logs"); bool(gateway.collectLogs)
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
        guard case .object(let object) = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))
        else {
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
        guard let raw = object[name] else { return fallback }
        guard case .bool(let value) = raw else { throw APIError.badParameter(name, "expected true or false") }
        return value
    }
}

/// Any JSON value, decoded strictly (a number is never a boolean).
enum JSONValue: Decodable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }
}
