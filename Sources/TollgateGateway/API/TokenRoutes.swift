import Crypto
import Hummingbird
import TollgateModel
import TollgateStorage

/// `/api/v1/accounts/{account}/tokens` (admin token only): create an account token, list them, revoke one.
///
/// A token is `tg_` and 64 hex digits (a 256-bit random secret). It is in the creation response only: the catalog
/// keeps its SHA-256, and the proxy's token directory the same hash, so neither the disk nor the log ever holds it.
struct TokenRoutes<Context: RequestContext> {
    let api: APIServices

    func register(on group: RouterGroup<Context>) {
        group.on(.createToken, prefix: Route.apiPrefix) { _, context, _ in try await create(context) }
        group.on(.listTokens, prefix: Route.apiPrefix) { _, context, _ in try await list(context) }
        group.on(.revokeToken, prefix: Route.apiPrefix) { _, context, _ in try await revoke(context) }
    }

    /// `POST …/tokens`: 201 with `{"id","token","created_at"}`; the only time the token is shown.
    private func create(_ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let secret = AccountTokenSecret.generate()
        let record = try await api.blocking {
            try api.catalog.createToken(account: account.id, id: secret.id, hash: secret.hash)
        }
        api.directory.tokens.add(.init(account: record.account, id: record.id, hash: record.hash))
        return json(status: .created) {
            $0.beginObject()
            $0.key("id"); $0.string(record.id)
            $0.key("token"); $0.string(secret.token)
            $0.key("account"); $0.string(record.account)
            $0.key("created_at"); $0.string(RFC3339.format(milliseconds: record.createdAt))
            $0.endObject()
        }
    }

    /// `GET …/tokens`: every token of the account, revoked ones included, by id and times only.
    private func list(_ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let tokens = try await api.blocking { try api.catalog.tokens(account: account.id) }
        return jsonList("tokens", tokens) { $0.token($1) }
    }

    /// `DELETE …/tokens/{id}`: revokes the token at once (204); 404 when the account has no such token.
    private func revoke(_ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let id = try context.parameters.require("id")
        guard AccountTokenRecord.isValidID(id) else { throw APIError.notFound("token \(id)") }
        guard let revoked = try await api.blocking({ try api.catalog.revokeToken(account: account.id, id: id) })
        else {
            throw APIError.notFound("token \(id)")
        }
        api.directory.tokens.remove(account: revoked.account, id: revoked.id)
        return Response(status: .noContent)
    }
}

extension Route {
    static let createToken = Route(
        .post, "/api/v1/accounts/{account}/tokens",
        "Creates an account token: 201 `{\"id\",\"token\",\"account\",\"created_at\"}`, the only time the token is shown."
    )
    static let listTokens = Route(
        .get, "/api/v1/accounts/{account}/tokens",
        "The account's tokens by id, with `created_at` and `revoked_at` (null while valid); never the token.")
    static let revokeToken = Route(
        .delete, "/api/v1/accounts/{account}/tokens/{id}",
        "Revokes a token at once: 204 (it stays listed with its `revoked_at`).")
}

/// A new account token: its public id, the token as the client will send it, and the SHA-256 that is stored.
struct AccountTokenSecret {
    static let prefix = "tg_"

    var id: String
    var token: String
    var hash: [UInt8]

    static func generate() -> AccountTokenSecret {
        let secret = randomBytes(count: 32)
        let token = prefix + hex(secret)
        let id = hex(randomBytes(count: 8))
        return AccountTokenSecret(id: id, token: token, hash: TokenDirectory.hash(Array(token.utf8)))
    }

    /// Bytes from the system's cryptographically secure generator (through swift-crypto).
    static func randomBytes(count: Int) -> [UInt8] {
        SymmetricKey(size: SymmetricKeySize(bitCount: count * 8)).withUnsafeBytes { Array($0) }
    }

    static func hex(_ bytes: [UInt8]) -> String { Hex.lowercase(bytes) }
}

extension JSONWriter {
    mutating func token(_ token: AccountTokenRecord) {
        beginObject()
        key("id"); string(token.id)
        key("account"); string(token.account)
        key("created_at"); string(RFC3339.format(milliseconds: token.createdAt))
        key("revoked_at"); string(token.revokedAt.map { RFC3339.format(milliseconds: $0) })
        endObject()
    }
}
