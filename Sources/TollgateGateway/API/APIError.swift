import Hummingbird
import NIOCore
import TollgateStorage

/// An API error as the client sees it: a status and `{"error":{"code":"…","message":"…"}}`.
///
/// Messages name the bad parameter and never echo secrets or bodies.
public struct APIError: Error, HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// The parameter or field at fault, for a 400 that names one.
    public var parameter: String?

    public init(_ status: HTTPResponse.Status, code: String, message: String, parameter: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.parameter = parameter
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Self.jsonResponse(status: status, code: code, message: message)
    }

    static func jsonResponse(status: HTTPResponse.Status, code: String, message: String) -> Response {
        var body = ByteBufferAllocator().buffer(capacity: 48 + message.utf8.count)
        body.writeJSONError(code: code, message: message)
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
    }

    /// The client-facing form of a catalog error: bad values are 400 naming the parameter, duplicates 409,
    /// missing parents 404.
    init(catalogError error: CatalogError) {
        let message = error.parameter.map { "\($0): \(error.message)" } ?? error.message
        switch error.code {
        case .accountExists, .gatewayExists, .customProviderExists, .providerKeyExists:
            self.init(.conflict, code: "already_exists", message: message)
        case .accountNotFound, .segmentNotFound: self.init(.notFound, code: "not_found", message: message)
        case .invalidIdentifier, .invalidTier, .invalidLimit, .invalidCursor, .invalidValue:
            self.init(.badRequest, code: "invalid_parameter", message: message)
        default: self.init(.internalServerError, code: "internal_error", message: "internal error; see the server log")
        }
    }

    static func badParameter(_ name: String, _ why: String) -> APIError {
        APIError(.badRequest, code: "invalid_parameter", message: "\(name): \(why)", parameter: name)
    }
    static func notFound(_ what: String) -> APIError {
        APIError(.notFound, code: "not_found", message: "\(what) not found")
    }
    static func unavailable(_ why: String) -> APIError {
        APIError(.serviceUnavailable, code: "unavailable", message: why)
    }
    static let unauthorized = APIError(
        .unauthorized, code: "unauthorized", message: "missing or invalid bearer token in Authorization header")
    static let forbidden = APIError(
        .forbidden, code: "forbidden", message: "this route needs the admin token; an account token cannot use it")
}

/// Turns every error thrown by a route into the JSON error shape: `APIError`s as they are, Hummingbird's
/// `HTTPError`s (unknown route, body too large) with their status, anything else as a 500 whose details go to
/// the log only.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return APIError.jsonResponse(status: error.status, code: error.code, message: error.message)
        } catch let error as CatalogError {
            let api = APIError(catalogError: error)
            return APIError.jsonResponse(status: api.status, code: api.code, message: api.message)
        } catch let error as HTTPError {
            // A declared path asked with a method it does not take: 405 naming the ones it does.
            if error.status == .notFound, let allowed = Route.methods(matching: request.uri.path), !allowed.isEmpty {
                var response = APIError.jsonResponse(
                    status: .methodNotAllowed, code: "method_not_allowed",
                    message: "\(request.method) is not allowed on \(request.uri.path); expected \(allowed)")
                response.headers[.allow] = allowed
                return response
            }
            let notFound = error.status == .notFound
            let message =
                error.body
                ?? (notFound ? "no route for \(request.method) \(request.uri.path)" : error.status.reasonPhrase)
            return APIError.jsonResponse(
                status: error.status, code: notFound ? "not_found" : "http_\(error.status.code)", message: message)
        } catch {
            context.logger.error(
                "API request failed", metadata: ["error": "\(error)", "http.path": "\(request.uri.path)"])
            return APIError.jsonResponse(
                status: .internalServerError, code: "internal_error", message: "internal error; see the server log")
        }
    }
}

extension Route {
    /// The methods the declared routes take on a concrete path (`/api/v1/accounts/acme`), comma-separated, or nil
    /// when no declared path pattern matches it.
    static func methods(matching path: String) -> String? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        let methods = all.filter { route in
            let pattern = route.path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
            return pattern.count == parts.count
                && zip(pattern, parts).allSatisfy { p, s in (p.hasPrefix("{") && !s.isEmpty) || p == s }
        }.map(\.method.rawValue)
        return methods.isEmpty ? nil : methods.joined(separator: ", ")
    }
}
