import Hummingbird

/// Requires `Authorization: Bearer <token>` on every API route: the admin token, which reaches every route, or an
/// account token, which reaches only its own account's routes that `APIAccess` opens to accounts.
///
/// A missing or unknown token is 401. An account token on an admin-only route is 403; on an account route naming
/// another account it is the same 404 as for an account that does not exist, so a token learns nothing about
/// other accounts. Both tokens are compared in time that does not depend on where they differ (an account token
/// through its SHA-256, see `TokenDirectory`).
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let adminToken: [UInt8]
    let tokens: TokenDirectory

    init(adminToken: String, tokens: TokenDirectory) {
        self.adminToken = Array(adminToken.utf8)
        self.tokens = tokens
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let header = request.headers[.authorization],
            let presented = TokenDirectory.bearerCredential(header)
        else {
            throw APIError.unauthorized
        }
        if TokenDirectory.constantTimeEquals(presented, adminToken) {
            return try await next(request, context)
        }
        guard let account = tokens.account(of: presented) else { throw APIError.unauthorized }
        switch APIAccess.required(method: request.method, route: context.endpointPath ?? "") {
        case .admin:
            throw APIError.forbidden
        case .account:
            let named = context.parameters.get("account") ?? ""
            guard named == account else { throw APIError.notFound("account \(named)") }
        }
        return try await next(request, context)
    }
}

/// Who may call an API route, decided from its method and registered path (`/api/v1/accounts/{account}/logs/{id}`),
/// so a route added later under an account path is covered by the same rule.
enum APIAccess: Equatable {
    /// The admin token only: accounts, gateways, tokens, prices, repricing, ingest counters, compaction.
    case admin
    /// The admin token, or a token of the account the path names.
    case account

    /// The sections under `/api/v1/accounts/{account}/` an account token may use, with the methods it may use there:
    /// its logs (reading, annotating and deleting its own), usage, monthly reports and quota (reading).
    static let accountSections: [String: Set<HTTPRequest.Method>] = [
        "logs": [.get, .patch, .delete],
        "usage": [.get],
        "reports": [.get],
        "quota": [.get],
    ]

    static func required(method: HTTPRequest.Method, route: String) -> APIAccess {
        let parts = route.split(separator: "/", omittingEmptySubsequences: true)
        // The Cloudflare-compatible logs of a gateway are the account's logs.
        if parts.count >= 8, parts[0] == "client", parts[1] == "v4", parts[2] == "accounts", parts[3] == "{account}",
            parts[4] == "ai-gateway", parts[5] == "gateways", parts[6] == "{gateway}", parts[7] == "logs"
        {
            return accountSections["logs", default: []].contains(method) ? .account : .admin
        }
        guard parts.count >= 5, parts[0] == "api", parts[1] == "v1", parts[2] == "accounts",
            parts[3] == "{account}", let methods = accountSections[String(parts[4])], methods.contains(method)
        else {
            return .admin
        }
        return .account
    }
}
