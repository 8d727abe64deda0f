/// JSON string literals out of Swift strings (RFC 8259): `"` and `\` escaped, line feed, carriage return and tab as
/// `\n`, `\r` and `\t`, the other control characters as `\u00XX` (lowercase hex), everything else as its UTF-8.
///
/// The one JSON escaper: the API's JSON writer, the gateway's error bodies and log lines, the mock provider, the
/// reports, the export and the catalog's metadata all write strings through it, so they agree byte for byte.
public enum JSONText {
    /// `text` as a JSON string literal, quotes included.
    public static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + 2)
        out.append(UInt8(ascii: "\""))
        append(text, to: &out)
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the escaped content of `text` (no quotes) to `out`.
    public static func append(_ text: String, to out: inout String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        append(text, to: &bytes)
        out += String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the escaped content of `text` (no quotes) to `out`.
    public static func append(_ text: String, to out: inout [UInt8]) {
        escape(text) { out.append(contentsOf: $0) }
    }

    /// The escaped content of `text` (no quotes), handed to `write` in order, in pieces: each run of bytes that
    /// stands for itself in one piece, each escape in a piece of its own. A string with nothing to escape is one
    /// piece. Byte writers pass their bulk write (`ByteBuffer.writeBytes`).
    public static func escape(_ text: String, _ write: (UnsafeRawBufferPointer) -> Void) {
        var text = text
        text.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            var runStart = 0
            for index in bytes.indices {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                if runStart < index { write(UnsafeRawBufferPointer(rebasing: bytes[runStart..<index])) }
                runStart = index + 1
                writeEscape(of: byte, write)
            }
            if runStart < bytes.count { write(UnsafeRawBufferPointer(rebasing: bytes[runStart...])) }
        }
    }

    private static func writeEscape(of byte: UInt8, _ write: (UnsafeRawBufferPointer) -> Void) {
        let backslash = UInt8(ascii: "\\")
        switch byte {
        case UInt8(ascii: "\""), backslash: withUnsafeBytes(of: (backslash, byte)) { write($0) }
        case 0x0A: withUnsafeBytes(of: (backslash, UInt8(ascii: "n"))) { write($0) }
        case 0x0D: withUnsafeBytes(of: (backslash, UInt8(ascii: "r"))) { write($0) }
        case 0x09: withUnsafeBytes(of: (backslash, UInt8(ascii: "t"))) { write($0) }
        default:
            let zero = UInt8(ascii: "0")
            let low = byte & 0xF
            let lowDigit = low < 10 ? zero + low : UInt8(ascii: "a") + low - 10
            withUnsafeBytes(of: (backslash, UInt8(ascii: "u"), zero, zero, zero + byte >> 4, lowDigit)) { write($0) }
        }
    }
}
