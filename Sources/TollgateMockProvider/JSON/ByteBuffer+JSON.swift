import NIOCore
import TollgateModel

extension ByteBuffer {
    /// Writes `value` as a JSON string literal, quotes included (`JSONText`'s escapes).
    @discardableResult
    mutating func writeJSONString(_ value: String) -> Int {
        let start = writerIndex
        writeInteger(UInt8(ascii: "\""))
        JSONText.escape(value) { writeBytes($0) }
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
