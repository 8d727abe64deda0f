import TollgateModel

/// The `logs.metadata` column: the `cf-aig-metadata` entries as a flat JSON object in the client's order, e.g.
/// `{"user":"u1","tries":2,"beta":true}`. Kept as JSON so SQL can read it (`json_extract`); read back with a small
/// parser that keeps the key order (a dictionary would lose it).
enum LogMetadataJSON {
    static func encode(_ entries: [MetadataEntry]) -> String? {
        guard !entries.isEmpty else { return nil }
        var out = "{"
        for (index, entry) in entries.enumerated() {
            if index > 0 { out += "," }
            appendString(entry.key, to: &out)
            out += ":"
            switch entry.value {
            case .string(let text): appendString(text, to: &out)
            case .bool(let flag): out += flag ? "true" : "false"
            case .number(let number): appendNumber(number, to: &out)
            }
        }
        out += "}"
        return out
    }

    private static func appendNumber(_ number: Double, to out: inout String) {
        out += numberText(number)
    }

    /// A number as the column holds it: an integral value without a fraction, any other as Swift writes it.
    static func numberText(_ number: Double) -> String {
        if !number.isFinite {
            "null"  // JSON has no infinities; the header parser never produces them
        } else if number == number.rounded(), abs(number) < 9_007_199_254_740_992 {
            String(Int64(number))
        } else {
            "\(number)"
        }
    }

    private static func appendString(_ text: String, to out: inout String) {
        out += JSONText.quoted(text)
    }

    /// Parses what `encode` wrote (any flat JSON object of strings, numbers and booleans). Nil when malformed.
    static func decode(_ text: String) -> [MetadataEntry]? {
        var parser = Parser(bytes: Array(text.utf8))
        return parser.object()
    }

    private struct Parser {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func object() -> [MetadataEntry]? {
            skipSpace()
            guard take(UInt8(ascii: "{")) else { return nil }
            var entries: [MetadataEntry] = []
            skipSpace()
            if take(UInt8(ascii: "}")) { return finished() ? entries : nil }
            while true {
                skipSpace()
                guard let key = string() else { return nil }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipSpace()
                guard let value = parseValue() else { return nil }
                if let value { entries.append(MetadataEntry(key, value)) }
                skipSpace()
                if take(UInt8(ascii: ",")) { continue }
                guard take(UInt8(ascii: "}")) else { return nil }
                return finished() ? entries : nil
            }
        }

        /// `.some(nil)` for a JSON null (skipped), nil when malformed.
        private mutating func parseValue() -> MetadataEntry.Value?? {
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "\""): return string().map { .some(.string($0)) }
            case UInt8(ascii: "t"): return literal("true") ? .some(.bool(true)) : nil
            case UInt8(ascii: "f"): return literal("false") ? .some(.bool(false)) : nil
            case UInt8(ascii: "n"): return literal("null") ? .some(nil) : nil
            default: return number().map { .some(.number($0)) }
            }
        }

        private mutating func number() -> Double? {
            let start = index
            while index < bytes.count, "+-0123456789.eE".utf8.contains(bytes[index]) { index += 1 }
            guard index > start else { return nil }
            return Double(String(decoding: bytes[start..<index], as: UTF8.self))
        }

        private mutating func literal(_ word: String) -> Bool {
            let utf8 = Array(word.utf8)
            guard index + utf8.count <= bytes.count, Array(bytes[index..<index + utf8.count]) == utf8 else {
                return false
            }
            index += utf8.count
            return true
        }

        private mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            var scalars = String.UnicodeScalarView()
            var run: [UInt8] = []  // raw UTF-8 between escapes
            func flush() {
                scalars.append(contentsOf: String(decoding: run, as: UTF8.self).unicodeScalars)
                run.removeAll(keepingCapacity: true)
            }
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    flush()
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    flush()
                    guard index < bytes.count else { return nil }
                    let escape = bytes[index]
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""): scalars.append("\"")
                    case UInt8(ascii: "\\"): scalars.append("\\")
                    case UInt8(ascii: "/"): scalars.append("/")
                    case UInt8(ascii: "b"): scalars.append("\u{08}")
                    case UInt8(ascii: "f"): scalars.append("\u{0C}")
                    case UInt8(ascii: "n"): scalars.append("\n")
                    case UInt8(ascii: "r"): scalars.append("\r")
                    case UInt8(ascii: "t"): scalars.append("\t")
                    case UInt8(ascii: "u"):
                        guard var code = hex4() else { return nil }
                        if (0xD800..<0xDC00).contains(code) {
                            // A high surrogate must be followed by an escaped low one.
                            guard literal("\\u"), let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(code) else { return nil }
                        scalars.append(scalar)
                    default: return nil
                    }
                default:
                    run.append(byte)
                }
            }
            return nil
        }

        private mutating func hex4() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for byte in bytes[index..<index + 4] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
            }
            index += 4
            return value
        }

        private mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        private mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        private func finished() -> Bool {
            var rest = index
            while rest < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[rest]) { rest += 1 }
            return rest == bytes.count
        }
    }
}
