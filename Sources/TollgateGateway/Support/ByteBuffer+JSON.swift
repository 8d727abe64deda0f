import NIOCore
import TollgateModel

extension ByteBuffer {
    /// Writes `text` as the inside of a JSON string (`JSONText`'s escapes).
    mutating func writeJSONEscaped(_ text: String) {
        JSONText.escape(text) { writeBytes($0) }
    }

    /// Writes the gateway's error body, `{"error":{"code":"…","message":"…"}}`, the same for the proxy and the API.
    mutating func writeJSONError(code: String, message: String) {
        writeStaticString(#"{"error":{"code":""#)
        writeJSONEscaped(code)
        writeStaticString(#"","message":""#)
        writeJSONEscaped(message)
        writeStaticString(#""}}"#)
    }
}
