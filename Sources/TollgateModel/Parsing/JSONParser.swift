/// A whole JSON document (RFC 8259) read into a `JSONValue` tree, strictly: the REST API's bodies, the universal
/// endpoint's steps and the mock provider's requests. The bytes are read by `JSONReader`, the one JSON reader, which
/// the usage scanners use to pull a few fields out of provider bodies; this adds what a client's input must also
/// meet (RFC 8259's number grammar, no raw control characters in strings, nothing after the value) and the options
/// below. Nesting deeper than `JSONReader.maxDepth` is rejected rather than risking the stack.
public struct JSONParser {
    public struct SyntaxError: Error, Equatable {
        public var offset: Int
        public var reason: String
        /// The member named twice, when that is the error.
        public var duplicateMember: String? = nil
    }

    /// Stricter readings, for input a client must not be misunderstood in (the REST API's bodies).
    public struct Options: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }

        /// An object that names a member twice is an error (`duplicateMember` says which), instead of keeping the
        /// last value.
        public static let rejectDuplicateKeys = Options(rawValue: 1)
        /// A number whose `Double` does not print back as the same decimal value (more than about 15 significant
        /// digits, or out of range) is an error, so that `"\(value)"` of every number read is exactly what was
        /// sent: money is never rounded through a float.
        public static let rejectInexactNumbers = Options(rawValue: 2)
    }

    /// Parses one JSON value that must span all of `bytes` (surrounding whitespace allowed).
    public static func parse(_ bytes: UnsafeRawBufferPointer, options: Options = []) throws(SyntaxError) -> JSONValue {
        var builder = JSONParser(options: options)
        var reader = JSONReader(bytes.assumingMemoryBound(to: UInt8.self))
        do throws(JSONReader.Failure) {
            let value = try builder.value(&reader)
            guard reader.isAtEnd() else { throw JSONReader.Failure(.trailingCharacters, at: reader.index) }
            return value
        } catch {
            let reason =
                if let text = builder.inexactNumber {
                    "number \(text) cannot be read exactly; send it as a string"
                } else { error.reason.rawValue }
            throw SyntaxError(offset: error.offset, reason: reason, duplicateMember: builder.duplicateMember)
        }
    }

    public static func parse(_ bytes: [UInt8], options: Options = []) throws(SyntaxError) -> JSONValue {
        let result: Result<JSONValue, SyntaxError> = bytes.withUnsafeBytes { raw in
            do throws(SyntaxError) { return .success(try parse(raw, options: options)) } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    public static func parse(_ text: String) throws(SyntaxError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    private let options: Options
    /// The member named twice, once `rejectDuplicateKeys` refused it.
    private var duplicateMember: String?
    /// The number `rejectInexactNumbers` refused, as written.
    private var inexactNumber: String?

    private init(options: Options) {
        self.options = options
    }

    private mutating func value(_ reader: inout JSONReader) throws(JSONReader.Failure) -> JSONValue {
        guard let kind = reader.peekKind() else { try reader.failUnexpected() }
        switch kind {
        case .object:
            var members: [String: JSONValue] = [:]
            try reader.readObject { (reader, key) throws(JSONReader.Failure) in
                let name = try Self.string(key.range, escaped: key.escaped, in: reader)
                if options.contains(.rejectDuplicateKeys), members[name] != nil {
                    duplicateMember = name
                    throw JSONReader.Failure(.duplicateMember, at: reader.index)
                }
                members[name] = try value(&reader)
            }
            return .object(members)
        case .array:
            var elements: [JSONValue] = []
            try reader.readArray { (reader) throws(JSONReader.Failure) in elements.append(try value(&reader)) }
            return .array(elements)
        case .string:
            let (range, escaped) = try reader.readStringToken()
            return .string(try Self.string(range, escaped: escaped, in: reader))
        case .bool:
            return .bool(try reader.readBool())
        case .null:
            try reader.readNull()
            return .null
        case .number:
            let range = try reader.readNumberToken()
            return .number(try number(range, in: reader))
        }
    }

    /// A string token's value; control characters must come escaped.
    private static func string(
        _ range: Range<Int>, escaped: Bool, in reader: JSONReader
    ) throws(JSONReader.Failure) -> String {
        let bytes = reader.bytes
        for i in range where bytes[i] < 0x20 { throw JSONReader.Failure(.controlCharacter, at: i) }
        return try JSONReader.decode(bytes, range, escaped: escaped)
    }

    /// A number token's value, its text held to RFC 8259's grammar (the reader only finds where it ends).
    private mutating func number(_ range: Range<Int>, in reader: JSONReader) throws(JSONReader.Failure) -> Double {
        let bytes = reader.bytes
        var i = range.lowerBound
        let end = range.upperBound
        func digits() -> Int {
            let start = i
            while i < end, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") { i += 1 }
            return i - start
        }
        let invalid = JSONReader.Failure(.invalidNumber, at: range.lowerBound)
        if i < end, bytes[i] == UInt8(ascii: "-") { i += 1 }
        if i < end, bytes[i] == UInt8(ascii: "0") {
            i += 1
        } else if digits() == 0 {
            throw invalid
        }
        if i < end, bytes[i] == UInt8(ascii: ".") {
            i += 1
            guard digits() > 0 else { throw invalid }
        }
        if i < end, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            if i < end, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-") { i += 1 }
            guard digits() > 0 else { throw invalid }
        }
        guard i == end else { throw invalid }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw invalid }
        if options.contains(.rejectInexactNumbers),
            Self.normalizedDecimal(text) != Self.normalizedDecimal(value.description)
        {
            inexactNumber = text
            throw JSONReader.Failure(.inexactNumber, at: range.lowerBound)
        }
        return value
    }

    /// A decimal numeral reduced to sign, significant digits and exponent (`-0.0120e1` → `-12e-2`), so that two
    /// spellings of one value compare equal. Nil for text that is not a numeral.
    static func normalizedDecimal(_ text: String) -> String? {
        var digits: [UInt8] = []
        var exponent = 0
        var negative = false
        var seenPoint = false
        var utf8 = Substring(text).utf8[...]
        if utf8.first == UInt8(ascii: "-") {
            negative = true
            utf8 = utf8.dropFirst()
        }
        while let byte = utf8.first, byte != UInt8(ascii: "e"), byte != UInt8(ascii: "E") {
            utf8 = utf8.dropFirst()
            if byte == UInt8(ascii: ".") {
                guard !seenPoint else { return nil }
                seenPoint = true
            } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                if seenPoint { exponent -= 1 }
                if !(digits.isEmpty && byte == UInt8(ascii: "0")) { digits.append(byte) }
            } else {
                return nil
            }
        }
        if !utf8.isEmpty {
            guard let e = Int(String(decoding: utf8.dropFirst(), as: UTF8.self)) else { return nil }
            exponent += e
        }
        while digits.last == UInt8(ascii: "0") {
            digits.removeLast()
            exponent += 1
        }
        guard !digits.isEmpty else { return "0" }
        return (negative ? "-" : "") + String(decoding: digits, as: UTF8.self) + "e\(exponent)"
    }
}
