/// A dictionary-encoded string column: distinct values once, a code per row (`UInt32.max` for nil).
public struct StringColumn: Sendable {
    public static let nullCode = UInt32.max

    /// Distinct values, in first-seen order.
    public var dictionary: [String] { values.values }
    /// One per row: a position in `dictionary`, or `nullCode`.
    public private(set) var codes = Codes()
    private var values = StringDictionary()

    public init() {}

    init(dictionary: [String], codes: Codes) {
        values = StringDictionary(dictionary)
        self.codes = codes
    }

    public var count: Int { codes.count }

    public subscript(row: Int) -> String? {
        let code = codes[row]
        return code == Self.nullCode ? nil : values.values[Int(code)]
    }

    /// The code of `value` in this column, nil when no row has it (a filter that matches nothing).
    public func code(of value: String) -> UInt32? { values.position(of: value).map { UInt32($0) } }

    mutating func append(_ value: String?) {
        guard let value else {
            codes.append(Self.nullCode)
            return
        }
        codes.append(UInt32(values.add(value)))
    }

    mutating func reserveCapacity(_ n: Int) { codes.reserveCapacity(n) }

    /// The code of `value`, added to the dictionary if no row had it.
    mutating func add(_ value: String) -> UInt32 { UInt32(values.add(value)) }

    /// Appends rows by their codes, each a position in the dictionary or -1 for nil.
    mutating func appendCodes(_ rows: UnsafeBufferPointer<Int64>) { codes.append(contentsOf: rows) }

    /// Appends `rows` rows coded against `dictionary` as a columns frame stores them: each `code()` is 0 for nil,
    /// else a position in `dictionary` + 1 (at most its count).
    mutating func appendRows(_ rows: Int, dictionary: [String], code: () throws -> UInt64) rethrows {
        let mapped = dictionary.map { UInt32(values.add($0)) }
        for _ in 0..<rows {
            let c = try code()
            codes.append(c == 0 ? Self.nullCode : mapped[Int(c) - 1])
        }
    }

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

        /// Appends codes given as positions, -1 for `nullCode`.
        mutating func append(contentsOf codes: UnsafeBufferPointer<Int64>) { packed.append(contentsOf: codes) }

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
