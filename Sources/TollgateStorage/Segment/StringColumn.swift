/// A dictionary-encoded string column: distinct values once, a code per row (`UInt32.max` for nil).
public struct StringColumn: Sendable {
    public static let nullCode = UInt32.max

    /// Distinct values, in first-seen order.
    public private(set) var dictionary: [String] = []
    /// One per row: a position in `dictionary`, or `nullCode`.
    public private(set) var codes = Codes()
    private var lookup: [String: UInt32] = [:]
    /// The code of the last value appended: a row nearly always repeats the one before it (same gateway, provider,
    /// model, method), and comparing with it costs less than hashing.
    private var lastCode = StringColumn.nullCode

    public init() {}

    init(dictionary: [String], codes: Codes) {
        self.dictionary = dictionary
        self.codes = codes
        for (i, value) in dictionary.enumerated() where lookup[value] == nil { lookup[value] = UInt32(i) }
    }

    public var count: Int { codes.count }

    public subscript(row: Int) -> String? {
        let code = codes[row]
        return code == Self.nullCode ? nil : dictionary[Int(code)]
    }

    /// The code of `value` in this column, nil when no row has it (a filter that matches nothing).
    public func code(of value: String) -> UInt32? { lookup[value] }

    mutating func append(_ value: String?) {
        guard let value else {
            codes.append(Self.nullCode)
            return
        }
        if lastCode != Self.nullCode && dictionary[Int(lastCode)] == value {
            codes.append(lastCode)
        } else if let code = lookup[value] {
            codes.append(code)
            lastCode = code
        } else {
            let code = UInt32(dictionary.count)
            dictionary.append(value)
            lookup[value] = code
            codes.append(code)
            lastCode = code
        }
    }

    mutating func reserveCapacity(_ n: Int) { codes.reserveCapacity(n) }

    /// The rows' codes, packed (`PackedIntegers`: one byte a row while the dictionary holds at most 127 values).
    public struct Codes: Sendable, RandomAccessCollection {
        /// A code, or -1 for `nullCode`.
        private var packed = PackedIntegers()

        init() {}

        init(repeating code: UInt32, count: Int) {
            packed = PackedIntegers(repeating: code == StringColumn.nullCode ? -1 : Int64(code), count: count)
        }

        public var startIndex: Int { 0 }
        public var endIndex: Int { packed.count }

        @inline(__always)
        public subscript(row: Int) -> UInt32 {
            let code = packed[row]
            return code < 0 ? StringColumn.nullCode : UInt32(truncatingIfNeeded: code)
        }

        mutating func append(_ code: UInt32) { packed.append(code == StringColumn.nullCode ? -1 : Int64(code)) }

        mutating func reserveCapacity(_ n: Int) { packed.reserveCapacity(n) }
    }
}

extension StringColumn: Equatable {
    /// Equal when every row has the same value (the dictionaries' order may differ).
    public static func == (a: StringColumn, b: StringColumn) -> Bool {
        guard a.count == b.count else { return false }
        for row in 0..<a.count where a[row] != b[row] { return false }
        return true
    }
}
