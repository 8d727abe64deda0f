import NIOCore
import NIOHTTP1

/// A JSON error the gateway answers itself: `{"error":{"code":"…","message":"…"}}`.
struct GatewayErrorResponse {
    var status: HTTPResponseStatus
    var code: StaticString
    var message: String
    /// Seconds for a `Retry-After` header (a refusal by a rate or spend limit).
    var retryAfter: Int? = nil

    /// The head (with content type and length) and body, written without Foundation.
    func render(
        version: HTTPVersion, logID: String?, close: Bool, allocator: ByteBufferAllocator
    ) -> (HTTPResponseHead, ByteBuffer) {
        var body = allocator.buffer(capacity: 48 + message.utf8.count)
        body.writeJSONError(code: "\(code)", message: message)
        var headers = HTTPHeaders()
        headers.reserveCapacity(4)
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(body.readableBytes))
        if let logID { headers.add(name: GatewayHeader.logID.name, value: logID) }
        if let retryAfter { headers.add(name: "retry-after", value: String(retryAfter)) }
        if close { headers.add(name: "connection", value: "close") }
        return (HTTPResponseHead(version: version, status: status, headers: headers), body)
    }
}
