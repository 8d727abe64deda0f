import NIOCore

extension ByteBuffer {
    /// Writes `text` as the inside of a JSON string (RFC 8259 escapes; everything else as UTF-8).
    mutating func writeJSONEscaped(_ text: String) {
        let hex: StaticString = "0123456789abcdef"
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): writeStaticString(#"\""#)
            case UInt8(ascii: "\\"): writeStaticString(#"\\"#)
            case 0x0A: writeStaticString(#"\n"#)
            case 0x0D: writeStaticString(#"\r"#)
            case 0x09: writeStaticString(#"\t"#)
            case 0..<0x20:
                writeStaticString(#"\u00"#)
                writeInteger(hex.utf8Start[Int(byte >> 4)])
                writeInteger(hex.utf8Start[Int(byte & 0xF)])
            default: writeInteger(byte)
            }
        }
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
