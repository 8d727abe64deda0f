import NIOCore

extension ByteBuffer {
    /// Writes `value` as a JSON string literal, quotes included, escaping what RFC 8259 requires.
    @discardableResult
    mutating func writeJSONString(_ value: String) -> Int {
        let start = writerIndex
        writeInteger(UInt8(ascii: "\""))
        var needsEscaping = false
        for unit in value.utf8 where unit < 0x20 || unit == UInt8(ascii: "\"") || unit == UInt8(ascii: "\\") {
            needsEscaping = true
            break
        }
        if !needsEscaping {
            writeString(value)
        } else {
            for unit in value.utf8 {
                switch unit {
                case UInt8(ascii: "\""): writeStaticString("\\\"")
                case UInt8(ascii: "\\"): writeStaticString("\\\\")
                case 0x0A: writeStaticString("\\n")
                case 0x0D: writeStaticString("\\r")
                case 0x09: writeStaticString("\\t")
                case 0x08: writeStaticString("\\b")
                case 0x0C: writeStaticString("\\f")
                case ..<0x20:
                    writeStaticString("\\u00")
                    writeInteger(Self.hexDigits[Int(unit >> 4)])
                    writeInteger(Self.hexDigits[Int(unit & 0x0F)])
                default: writeInteger(unit)
                }
            }
        }
        writeInteger(UInt8(ascii: "\""))
        return writerIndex - start
    }

    /// Writes the decimal digits of `value`.
    @discardableResult
    mutating func writeDecimal(_ value: Int) -> Int {
        writeString(String(value))
    }

    /// Writes the lowercase hexadecimal digits of `value`, zero-padded to 16 digits.
    @discardableResult
    mutating func writeHex64(_ value: UInt64) -> Int {
        for shift in stride(from: 60, through: 0, by: -4) {
            writeInteger(Self.hexDigits[Int((value >> UInt64(shift)) & 0x0F)])
        }
        return 16
    }

    /// Writes a stable 32-hex-digit identifier derived from a request fingerprint and a per-kind salt.
    @discardableResult
    mutating func writeIdentifier(_ fingerprint: UInt64, salt: UInt64) -> Int {
        writeHex64(fingerprint) + writeHex64(MockResponder.mix(fingerprint ^ salt))
    }

    static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
