#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A pull reader over JSON bytes: walks objects and arrays in place, decodes only the strings and numbers asked
/// for, and skips everything else without allocating.
///
/// Built for pulling a few fields (usage counts, a model name) out of provider bodies that may be large, truncated
/// or not JSON at all. Every read is bounds-checked; malformed input, or nesting deeper than `maxDepth`, throws
/// `JSONReader.Failure` (what was wrong, and where) and never traps. It is Tollgate's one JSON reader: `JSONParser`
/// reads a client's whole document through it, `JSONFieldScanner` hands it the members it kept from a stream.
struct JSONReader {
    /// Why the bytes are not what was asked for, and at which byte. Reasons name the JSON grammar's terms; the
    /// REST API shows them (`JSONParser.SyntaxError`). Two plain words, so throwing one costs the scanners nothing.
    struct Failure: Error, Equatable {
        enum Reason: String {
            case malformed = "malformed JSON"
            case unexpectedEnd = "unexpected end of input"
            case unexpectedCharacter = "unexpected character"
            case expectedString = "expected a string"
            case expectedColon = "expected ':'"
            case expectedComma = "expected ','"
            case expectedObject = "expected '{'"
            case expectedObjectEnd = "expected '}'"
            case expectedArray = "expected '['"
            case expectedArrayEnd = "expected ']'"
            case nestingTooDeep = "nesting too deep"
            case invalidNumber = "invalid number"
            case invalidLiteral = "invalid literal"
            case unterminatedString = "unterminated string"
            case invalidEscape = "invalid escape"
            case invalidUnicodeEscape = "invalid unicode escape"
            case truncatedUnicodeEscape = "truncated unicode escape"
            case controlCharacter = "control character in string"
            case trailingCharacters = "trailing characters"
            case duplicateMember = "duplicate member"
            case inexactNumber = "number cannot be read exactly"
        }

        var reason: Reason
        var offset: Int

        init(_ reason: Reason = .malformed, at offset: Int = 0) {
            self.reason = reason
            self.offset = offset
        }
    }

    enum Kind: Equatable {
        case object, array, string, number, bool, null
    }

    /// Deeper nesting is treated as malformed, so hostile input cannot exhaust the stack.
    static let maxDepth = 128

    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var index: Int
    private var depth = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.index = bytes.startIndex
    }

    /// True when only whitespace remains.
    mutating func isAtEnd() -> Bool {
        skipWhitespace()
        return index >= bytes.endIndex
    }

    /// The kind of the next value, or nil at the end of input or on a byte that cannot start a value.
    @inline(__always)
    mutating func peekKind() -> Kind? {
        skipWhitespace()
        guard index < bytes.endIndex else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: return nil
        }
    }

    // MARK: Containers

    /// Reads an object, calling `member` once per member with the reader positioned on its value. `member` must
    /// consume the value (read it or `skipValue()`).
    mutating func readObject(
        _ member: (inout JSONReader, JSONKey) throws(Failure) -> Void
    ) throws(Failure) {
        try expect(UInt8(ascii: "{"))
        try enter()
        defer { depth -= 1 }
        skipWhitespace()
        if try consumeIf(UInt8(ascii: "}")) { return }
        while true {
            skipWhitespace()
            let key = try readKey()
            skipWhitespace()
            try expect(UInt8(ascii: ":"))
            skipWhitespace()
            let before = index
            try member(&self, key)
            if index == before { try skipValue() }  // the callback ignored the value
            skipWhitespace()
            if try consumeIf(UInt8(ascii: ",")) { continue }
            try expect(UInt8(ascii: "}"))
            return
        }
    }

    /// Reads an array, calling `element` once per element with the reader positioned on it. `element` must
    /// consume the value.
    mutating func readArray(_ element: (inout JSONReader) throws(Failure) -> Void) throws(Failure) {
        try expect(UInt8(ascii: "["))
        try enter()
        defer { depth -= 1 }
        skipWhitespace()
        if try consumeIf(UInt8(ascii: "]")) { return }
        while true {
            skipWhitespace()
            let before = index
            try element(&self)
            if index == before { try skipValue() }
            skipWhitespace()
            if try consumeIf(UInt8(ascii: ",")) { continue }
            try expect(UInt8(ascii: "]"))
            return
        }
    }

    /// Skips one value of any kind. Containers are skipped by a flat scan that tracks nesting and strings
    /// without descending (no recursion, no per-member work); their inside is checked for balance only.
    mutating func skipValue() throws(Failure) {
        guard let kind = peekKind() else { try failUnexpected() }
        switch kind {
        case .object, .array: try skipContainer()
        case .string: try skipString()
        case .number: _ = try scanNumber()
        case .bool: _ = try readBool()
        case .null: try readLiteral("null")
        }
    }

    /// Skips the container at `index`: from bracket to bracket and from quote to quote, sixteen bytes at a time
    /// (`firstStructural`, then `firstQuoteOrBackslash` inside a string), the bytes between never looked at one by
    /// one. Only the balance of the brackets is checked.
    private mutating func skipContainer() throws(Failure) {
        guard let base = bytes.baseAddress else { throw Failure(.unexpectedEnd, at: index) }
        let end = bytes.endIndex
        var i = index
        var nesting = 0
        while true {
            i = Self.firstStructural(base, from: i, to: end)
            guard i < end else {
                index = end
                throw Failure(.unexpectedEnd, at: end)
            }
            let byte = base[i]
            i &+= 1
            if byte == UInt8(ascii: "\"") {
                // A string: to its closing quote, a backslash escaping the byte after it.
                var escaped = false
                guard let close = Self.closingQuote(base, from: i, to: end, escaped: &escaped) else {
                    index = i
                    throw Failure(.unterminatedString, at: end)
                }
                i = close &+ 1
            } else if byte | 0x20 == UInt8(ascii: "{") {
                nesting &+= 1  // `{` or `[`
            } else {
                nesting &-= 1  // `}` or `]`
                if nesting == 0 {
                    index = i
                    return
                }
            }
        }
    }

    /// The index of the first quote, bracket or brace in `base[from..<end]`, or `end`: sixteen bytes at a time (a
    /// byte ORed with 0x20 is `{` for `[` and `{`, `}` for `]` and `}`), the last few one by one.
    @inline(__always)
    private static func firstStructural(_ base: UnsafePointer<UInt8>, from: Int, to end: Int) -> Int {
        var i = from
        let quotes = SIMD16<UInt8>(repeating: UInt8(ascii: "\""))
        let opens = SIMD16<UInt8>(repeating: UInt8(ascii: "{"))
        let closes = SIMD16<UInt8>(repeating: UInt8(ascii: "}"))
        let lower = SIMD16<UInt8>(repeating: 0x20)
        while i &+ 16 <= end {
            let chunk = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<UInt8>.self)
            let folded = chunk | lower
            let hits = unsafeBitCast(
                (chunk .== quotes) .| (folded .== opens) .| (folded .== closes), to: SIMD2<UInt64>.self)
            if hits[0] != 0 { return i &+ (UInt64(littleEndian: hits[0]).trailingZeroBitCount &>> 3) }
            if hits[1] != 0 { return i &+ 8 &+ (UInt64(littleEndian: hits[1]).trailingZeroBitCount &>> 3) }
            i &+= 16
        }
        while i < end {
            let byte = base[i]
            if byte == UInt8(ascii: "\"") || byte | 0x20 == UInt8(ascii: "{") || byte | 0x20 == UInt8(ascii: "}") {
                return i
            }
            i &+= 1
        }
        return i
    }

    // MARK: Scalars

    /// Reads a string value, decoding escapes.
    mutating func readString() throws(Failure) -> String {
        let (range, escaped) = try scanString()
        return try Self.decode(bytes, range, escaped: escaped)
    }

    /// Reads a string token without decoding it: the range of its bytes between the quotes, and whether it holds
    /// escapes (then `decode` resolves them).
    mutating func readStringToken() throws(Failure) -> (range: Range<Int>, escaped: Bool) {
        try scanString()
    }

    mutating func readNull() throws(Failure) {
        try readLiteral("null")
    }

    /// Reads a number token without converting it: the range of its bytes, checked only for where it ends (digits,
    /// sign, dot, exponent); `JSONParser` holds it to the grammar.
    mutating func readNumberToken() throws(Failure) -> Range<Int> {
        try scanNumber()
    }

    /// Reads a string if the next value is one; otherwise consumes the value and returns nil.
    mutating func readStringOrSkip() throws(Failure) -> String? {
        if peekKind() == .string { return try readString() }
        try skipValue()
        return nil
    }

    mutating func readBool() throws(Failure) -> Bool {
        skipWhitespace()
        guard index < bytes.endIndex else { throw Failure(.unexpectedEnd, at: index) }
        if bytes[index] == UInt8(ascii: "t") {
            try readLiteral("true")
            return true
        }
        try readLiteral("false")
        return false
    }

    /// Reads a bool if the next value is one; otherwise consumes the value and returns nil.
    mutating func readBoolOrSkip() throws(Failure) -> Bool? {
        if peekKind() == .bool { return try readBool() }
        try skipValue()
        return nil
    }

    /// Reads a number token's text as written (`0.000001`, `1e-6`), for exact decimal parsing.
    mutating func readNumberText() throws(Failure) -> String {
        let range = try scanNumber()
        return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }

    /// Reads a number as a Double (finite or not; callers decide).
    mutating func readDouble() throws(Failure) -> Double {
        let range = try scanNumber()
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        guard let value = Double(text) else { throw Failure(.invalidNumber, at: range.lowerBound) }
        return value
    }

    /// Reads a token count: a non-negative integral number that fits in Int64. Any other value (null, a string,
    /// a fraction, a negative number) is consumed and gives nil, so one odd field never spoils the rest.
    mutating func readCount() throws(Failure) -> Int64? {
        guard peekKind() == .number else {
            try skipValue()
            return nil
        }
        // The usual count, plain digits followed by what ends a member: read in the one pass that finds its end.
        var i = index
        var value: Int64 = 0
        while i < bytes.endIndex, value < Self.countBeforeOverflow {
            let digit = bytes[i] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            value = value &* 10 &+ Int64(digit)
            i &+= 1
        }
        if i > index, i < bytes.endIndex, !Self.continuesNumber(bytes[i]) {
            index = i
            return value
        }
        let range = try scanNumber()
        value = 0
        var integral = true
        for i in range {
            let c = bytes[i]
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else {
                integral = false
                break
            }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(c - UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = s
        }
        if integral { return value }
        // `12.0` or `1.2e3`: accept when it is a whole, non-negative number in range.
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        guard let d = Double(text), d >= 0, d < 9.0e18, d.rounded(.towardZero) == d else { return nil }
        return Int64(d)
    }

    /// A count below this takes one more digit without overflowing Int64; a longer one goes the careful way.
    private static let countBeforeOverflow: Int64 = Int64.max / 10 - 1

    /// Whether `byte` may go on a number token after its digits (`scanNumber`'s loose grammar).
    @inline(__always)
    private static func continuesNumber(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"),
            UInt8(ascii: "+"), UInt8(ascii: "-"):
            true
        default: false
        }
    }

    // MARK: Internals

    private mutating func enter() throws(Failure) {
        depth += 1
        if depth > Self.maxDepth { throw Failure(.nestingTooDeep, at: index) }
    }

    /// Throws the failure for a byte that cannot come next, or for the end of input (off the caller's path).
    @inline(never)
    func failUnexpected() throws(Failure) -> Never {
        throw Failure(index < bytes.endIndex ? .unexpectedCharacter : .unexpectedEnd, at: index)
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while index < bytes.endIndex {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    @inline(__always)
    private mutating func expect(_ byte: UInt8) throws(Failure) {
        skipWhitespace()
        guard index < bytes.endIndex, bytes[index] == byte else { try failExpecting(byte) }
        index += 1
    }

    /// Throws what `expect(byte)` found instead, off its path (the path holds no error value).
    @inline(never)
    private func failExpecting(_ byte: UInt8) throws(Failure) -> Never {
        guard index < bytes.endIndex else { throw Failure(.unexpectedEnd, at: index) }
        let reason: Failure.Reason =
            switch byte {
            case UInt8(ascii: "\""): .expectedString
            case UInt8(ascii: ":"): .expectedColon
            case UInt8(ascii: "{"): .expectedObject
            case UInt8(ascii: "}"): .expectedObjectEnd
            case UInt8(ascii: "["): .expectedArray
            case UInt8(ascii: "]"): .expectedArrayEnd
            case UInt8(ascii: ","): .expectedComma
            default: .malformed
            }
        throw Failure(reason, at: index)
    }

    @inline(__always)
    private mutating func consumeIf(_ byte: UInt8) throws(Failure) -> Bool {
        skipWhitespace()
        guard index < bytes.endIndex else { throw Failure(.unexpectedEnd, at: index) }
        if bytes[index] == byte {
            index += 1
            return true
        }
        return false
    }

    private mutating func readLiteral(_ literal: StaticString) throws(Failure) {
        skipWhitespace()
        let count = literal.utf8CodeUnitCount
        let lit = literal.utf8Start
        for i in 0..<count where index + i >= bytes.endIndex || bytes[index + i] != lit[i] {
            throw Failure(index + i >= bytes.endIndex ? .unexpectedEnd : .invalidLiteral, at: index + i)
        }
        index += count
    }

    private mutating func readKey() throws(Failure) -> JSONKey {
        let (range, escaped) = try scanString()
        return JSONKey(bytes: bytes, range: range, escaped: escaped)
    }

    private mutating func skipString() throws(Failure) {
        _ = try scanString()
    }

    /// Scans a string token; returns the byte range between the quotes and whether it holds escapes.
    ///
    /// One pass finds the first quote or backslash (`firstQuoteOrBackslash`): a quote there ends the string, a
    /// backslash escapes the byte after it and the search goes on past that.
    private mutating func scanString() throws(Failure) -> (Range<Int>, Bool) {
        try expect(UInt8(ascii: "\""))
        let start = index
        let end = bytes.endIndex
        var escaped = false
        guard let base = bytes.baseAddress else { throw Failure(.unexpectedEnd, at: index) }
        guard let close = Self.closingQuote(base, from: start, to: end, escaped: &escaped) else {
            throw Failure(.unterminatedString, at: end)
        }
        index = close &+ 1
        return (start..<close, escaped)
    }

    /// The index of the quote that ends a string whose bytes start at `from`, nil when `base[from..<end]` has none;
    /// `escaped` is set when a backslash came before it (each escapes the byte after it).
    @inline(__always)
    private static func closingQuote(
        _ base: UnsafePointer<UInt8>, from: Int, to end: Int, escaped: inout Bool
    ) -> Int? {
        var i = from
        while true {
            i = firstQuoteOrBackslash(base, from: i, to: end)
            guard i < end else { return nil }
            if base[i] == UInt8(ascii: "\"") { return i }
            escaped = true
            i &+= 2
            guard i < end else { return nil }
        }
    }

    /// The index of the first quote or backslash in `base[from..<end]`, or `end`: sixteen bytes at a time (an SSE2
    /// compare of each kind on x86-64, its two halves read as words: a hit's lanes are all ones), then the last few
    /// eight at a time (`quoteOrBackslash`) and one by one.
    @inline(__always)
    private static func firstQuoteOrBackslash(_ base: UnsafePointer<UInt8>, from: Int, to end: Int) -> Int {
        var i = from
        let quotes = SIMD16<UInt8>(repeating: UInt8(ascii: "\""))
        let backslashes = SIMD16<UInt8>(repeating: UInt8(ascii: "\\"))
        while i &+ 16 <= end {
            let chunk = UnsafeRawPointer(base + i).loadUnaligned(as: SIMD16<UInt8>.self)
            let hits = unsafeBitCast((chunk .== quotes) .| (chunk .== backslashes), to: SIMD2<UInt64>.self)
            if hits[0] != 0 { return i &+ (UInt64(littleEndian: hits[0]).trailingZeroBitCount &>> 3) }
            if hits[1] != 0 { return i &+ 8 &+ (UInt64(littleEndian: hits[1]).trailingZeroBitCount &>> 3) }
            i &+= 16
        }
        while i &+ 8 <= end {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
            let found = quoteOrBackslash(word)
            if found != 0 { return i &+ (found.trailingZeroBitCount &>> 3) }
            i &+= 8
        }
        while i < end && base[i] != UInt8(ascii: "\"") && base[i] != UInt8(ascii: "\\") { i &+= 1 }
        return i
    }

    /// The high bit of each byte of `word` that is a quote or a backslash, and no other.
    @inline(__always)
    private static func quoteOrBackslash(_ word: UInt64) -> UInt64 {
        let low: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        let high: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ 0x2222_2222_2222_2222
        let backslashes = word ^ 0x5C5C_5C5C_5C5C_5C5C
        // A byte's high bit is set in `(b & low) + low | b` exactly when the byte is not zero.
        let quoteZero = ~(((quotes & low) &+ low) | quotes) & high
        let backslashZero = ~(((backslashes & low) &+ low) | backslashes) & high
        return quoteZero | backslashZero
    }

    /// Scans a number token (JSON grammar, checked loosely: digits, sign, dot, exponent).
    private mutating func scanNumber() throws(Failure) -> Range<Int> {
        skipWhitespace()
        let start = index
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "-") { index += 1 }
        var digits = 0
        while index < bytes.endIndex {
            switch bytes[index] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits += 1
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"): break
            default:
                guard digits > 0 else { throw Failure(.invalidNumber, at: start) }
                return start..<index
            }
            index += 1
        }
        // Input ending inside a container ends mid-value (a truncated capture): `"prompt_tokens":12` may have
        // been `1234`. Only a document that is just a number may end with one.
        guard digits > 0, depth == 0 else { throw Failure(digits > 0 ? .unexpectedEnd : .invalidNumber, at: index) }
        return start..<index
    }

    /// Decodes the bytes of a string token into a String, resolving escapes (including UTF-16 surrogate pairs).
    static func decode(
        _ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, escaped: Bool
    ) throws(Failure) -> String {
        if !escaped { return String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var i = range.lowerBound
        while i < range.upperBound {
            let c = bytes[i]
            guard c == UInt8(ascii: "\\") else {
                out.append(c)
                i += 1
                continue
            }
            guard i + 1 < range.upperBound else { throw Failure(.invalidEscape, at: i) }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4(bytes, i, range.upperBound)
                i += 4
                if (0xD800..<0xDC00).contains(scalar), i + 6 <= range.upperBound, bytes[i] == UInt8(ascii: "\\"),
                    bytes[i + 1] == UInt8(ascii: "u")
                {
                    let low = try hex4(bytes, i + 2, range.upperBound)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        i += 6
                    }
                }
                let unicode = Unicode.Scalar(scalar) ?? "\u{FFFD}"  // lone surrogates become U+FFFD
                out.append(contentsOf: Array(String(Character(unicode)).utf8))
            default: throw Failure(.invalidEscape, at: i - 2)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, _ at: Int, _ end: Int) throws(Failure) -> UInt32 {
        guard at + 4 <= end else { throw Failure(.truncatedUnicodeEscape, at: at) }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = bytes[at + k]
            let d: UInt32
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = UInt32(c - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = UInt32(c - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = UInt32(c - UInt8(ascii: "A") + 10)
            default: throw Failure(.invalidUnicodeEscape, at: at + k)
            }
            v = v << 4 | d
        }
        return v
    }
}

/// An object member's key, still in the input buffer; compared against literals without allocating.
struct JSONKey {
    fileprivate let bytes: UnsafeBufferPointer<UInt8>
    /// Where the key's bytes are, between the quotes.
    let range: Range<Int>
    /// Whether they hold escapes.
    let escaped: Bool

    @inline(__always)
    static func == (key: JSONKey, literal: StaticString) -> Bool {
        guard !key.escaped else { return key.slowEquals(literal) }
        guard key.range.count == literal.utf8CodeUnitCount, let base = key.bytes.baseAddress else { return false }
        return memcmp(base + key.range.lowerBound, literal.utf8Start, key.range.count) == 0
    }

    private func slowEquals(_ literal: StaticString) -> Bool {
        (try? string()) == literal.description
    }

    /// The decoded key.
    func string() throws(JSONReader.Failure) -> String {
        try JSONReader.decode(bytes, range, escaped: escaped)
    }
}
