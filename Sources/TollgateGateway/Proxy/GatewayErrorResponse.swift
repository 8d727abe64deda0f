import NIOCore
import NIOHTTP1

/// A JSON error the gateway answers itself: `{"error":{"code":"…","message":"…"}}`.
struct GatewayErrorResponse {
    var status: HTTPResponseStatus
    var code: StaticString
    var message: String

    /// The head (with content type and length) and body, written without Foundation.
    func render(
        version: HTTPVersion, logID: String?, close: Bool, allocator: ByteBufferAllocator
    ) -> (HTTPResponseHead, ByteBuffer) {
        var body = allocator.buffer(capacity: 48 + message.utf8.count)
        body.writeStaticString(#"{"error":{"code":""#)
        body.writeStaticString(code)
        body.writeStaticString(#"","message":""#)
        Self.writeEscaped(message, into: &body)
        body.writeStaticString(#""}}"#)
        var headers = HTTPHeaders()
        headers.reserveCapacity(4)
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(body.readableBytes))
        if let logID { headers.add(name: "cf-aig-log-id", value: logID) }
        if close { headers.add(name: "connection", value: "close") }
        return (HTTPResponseHead(version: version, status: status, headers: headers), body)
    }

    /// Writes `text` as the inside of a JSON string.
    static func writeEscaped(_ text: String, into buffer: inout ByteBuffer) {
        let hex: StaticString = "0123456789abcdef"
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): buffer.writeStaticString(#"\""#)
            case UInt8(ascii: "\\"): buffer.writeStaticString(#"\\"#)
            case 0x0A: buffer.writeStaticString(#"\n"#)
            case 0x0D: buffer.writeStaticString(#"\r"#)
            case 0x09: buffer.writeStaticString(#"\t"#)
            case 0..<0x20:
                buffer.writeStaticString(#"\u00"#)
                buffer.writeInteger(hex.utf8Start[Int(byte >> 4)])
                buffer.writeInteger(hex.utf8Start[Int(byte & 0xF)])
            default: buffer.writeInteger(byte)
            }
        }
    }
}
