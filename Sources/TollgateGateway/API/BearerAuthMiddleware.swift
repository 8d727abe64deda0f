import Hummingbird

/// Requires `Authorization: Bearer <admin token>` on every API route; 401 otherwise.
/// The comparison takes the same time wherever the first difference is.
struct BearerAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let adminToken: [UInt8]

    init(adminToken: String) {
        self.adminToken = Array(adminToken.utf8)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        guard let header = request.headers[.authorization], header.count > 7,
            header.prefix(7).lowercased() == "bearer ",
            Self.constantTimeEquals(Array(header.utf8.dropFirst(7)), adminToken)
        else {
            throw APIError.unauthorized
        }
        return try await next(request, context)
    }

    static func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
        let n = max(a.count, b.count)
        for i in 0..<n {
            let x = i < a.count ? a[i] : 0
            let y = i < b.count ? b[i] : 0
            diff |= x ^ y
        }
        return diff == 0
    }
}
