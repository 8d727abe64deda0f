/// Parses the `cf-aig-metadata` request header: a flat JSON object of at most 5 entries whose values are strings,
/// numbers or booleans, e.g. `{"team":"search","user":42,"beta":true}`.
public enum MetadataHeader {
    /// Why a header value was refused.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The largest number of entries a header may carry.
    public static let maxEntries = 5

    /// The entries in the client's order. Throws `ParseError` for anything but a flat object of at most
    /// `maxEntries` string/number/boolean values.
    public static func parse(_ value: String) throws -> [MetadataEntry] {
        var parser = Parser(bytes: Array(value.utf8))
        return try parser.object()
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func object() throws -> [MetadataEntry] {
            skipSpace()
            try expect(UInt8(ascii: "{"))
            var entries: [MetadataEntry] = []
            skipSpace()
            if peek() == UInt8(ascii: "}") {
                index += 1
            } else {
                while true {
                    skipSpace()
                    let key = try string()
                    if entries.contains(where: { $0.key == key }) { throw ParseError(description: "duplicate key") }
                    skipSpace()
                    try expect(UInt8(ascii: ":"))
                    skipSpace()
                    entries.append(MetadataEntry(key, try scalar()))
                    if entries.count > MetadataHeader.maxEntries {
                        throw ParseError(description: "more than \(MetadataHeader.maxEntries) entries")
                    }
                    skipSpace()
                    guard let c = peek() else { throw ParseError(description: "unterminated object") }
                    index += 1
                    if c == UInt8(ascii: "}") { break }
                    guard c == UInt8(ascii: ",") else { throw ParseError(description: "expected ',' or '}'") }
                }
            }
            skipSpace()
            guard index == bytes.count else { throw ParseError(description: "trailing characters") }
            return entries
        }

        mutating func scalar() throws -> MetadataEntry.Value {
            guard let c = peek() else { throw ParseError(description: "missing value") }
            switch c {
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
            default: throw ParseError(description: "values must be strings, numbers or booleans")
            }
        }

        mutating func number() throws -> Double {
            let start = index
            if peek() == UInt8(ascii: "-") { index += 1 }
            var digits = 0
            while let c = peek(), c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { index += 1; digits += 1 }
            guard digits > 0 else { throw ParseError(description: "bad number") }
            if peek() == UInt8(ascii: ".") {
                index += 1
                var fraction = 0
                while let c = peek(), c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { index += 1; fraction += 1 }
                guard fraction > 0 else { throw ParseError(description: "bad number") }
            }
            if let c = peek(), c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
                index += 1
                if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { index += 1 }
                var exponent = 0
                while let c = peek(), c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { index += 1; exponent += 1 }
                guard exponent > 0 else { throw ParseError(description: "bad number") }
            }
            guard let value = Double(String(decoding: bytes[start..<index], as: UTF8.self)) else {
                throw ParseError(description: "bad number")
            }
            return value
        }

        mutating func string() throws -> String {
            try expect(UInt8(ascii: "\""))
            var out: [UInt8] = []
            while true {
                guard let c = peek() else { throw ParseError(description: "unterminated string") }
                index += 1
                switch c {
                case UInt8(ascii: "\""):
                    return String(decoding: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let e = peek() else { throw ParseError(description: "unterminated string") }
                    index += 1
                    switch e {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if (0xD800..<0xDC00).contains(scalar) {
                            try expect(UInt8(ascii: "\\"))
                            try expect(UInt8(ascii: "u"))
                            let low = try hex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw ParseError(description: "bad surrogate") }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let u = Unicode.Scalar(scalar) else { throw ParseError(description: "bad escape") }
                        out.append(contentsOf: Array(String(Character(u)).utf8))
                    default: throw ParseError(description: "bad escape")
                    }
                case 0..<0x20:
                    throw ParseError(description: "control character in string")
                default:
                    out.append(c)
                }
            }
        }

        mutating func hex4() throws -> UInt32 {
            guard index + 4 <= bytes.count else { throw ParseError(description: "bad escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = bytes[index]
                index += 1
                let d: UInt32
                switch c {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
                default: throw ParseError(description: "bad escape")
                }
                v = v << 4 | d
            }
            return v
        }

        mutating func literal(_ word: StaticString) throws {
            let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
            guard index + expected.count <= bytes.count, bytes[index..<index + expected.count].elementsEqual(expected)
            else { throw ParseError(description: "bad literal") }
            index += expected.count
        }

        mutating func expect(_ c: UInt8) throws {
            guard peek() == c else { throw ParseError(description: "expected '\(Character(Unicode.Scalar(c)))'") }
            index += 1
        }

        func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipSpace() {
            while let c = peek(), c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { index += 1 }
        }
    }
}
