/// The rows of an integer column of a decoded `ColumnBlock`: the values packed in as few bytes as the largest needs
/// (`PackedIntegers`) and which rows are null in a bitmap beside it, so a status code takes 2 bytes and a bit instead
/// of an optional's 16. Reads as a collection of `Int64?`.
public struct IntegerColumn: Sendable, Equatable, RandomAccessCollection {
    private var values = PackedIntegers()
    /// Bit `row % 64` of word `row / 64` set: the row is null. Empty while no row is.
    private var nulls: [UInt64] = []

    public init() {}

    public init(repeating value: Int64?, count: Int) {
        values = PackedIntegers(repeating: value ?? 0, count: count)
        if value == nil { nulls = Array(repeating: .max, count: (count + 63) / 64) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { values.count }

    public subscript(row: Int) -> Int64? {
        let word = row >> 6
        if word < nulls.count, nulls[word] & (1 << UInt64(row & 63)) != 0 { return nil }
        return values[row]
    }

    mutating func reserveCapacity(_ rows: Int) { values.reserveCapacity(rows) }

    mutating func append(_ value: Int64?) {
        let row = values.count
        values.append(value ?? 0)
        guard value == nil else { return }
        let word = row >> 6
        if nulls.count <= word { nulls.append(contentsOf: repeatElement(0, count: word - nulls.count + 1)) }
        nulls[word] |= 1 << UInt64(row & 63)
    }

    /// Appends rows' values: their widest decides the bytes per value once.
    mutating func append(contentsOf rows: [Int64?]) {
        let first = values.count
        withUnsafeTemporaryAllocation(of: Int64.self, capacity: rows.count) { plain in
            for (k, value) in rows.enumerated() { plain[k] = value ?? 0 }
            values.append(contentsOf: UnsafeBufferPointer(plain))
        }
        for (k, value) in rows.enumerated() where value == nil {
            let row = first + k
            let word = row >> 6
            if nulls.count <= word { nulls.append(contentsOf: repeatElement(0, count: word - nulls.count + 1)) }
            nulls[word] |= 1 << UInt64(row & 63)
        }
    }

    /// Appends rows' values (a null row's value is not read), their widest deciding the bytes per value once;
    /// `isNull(k)` says whether row `k` of them is null.
    mutating func append(contentsOf rows: UnsafeBufferPointer<Int64>, isNull: (Int) -> Bool) {
        let first = values.count
        values.append(contentsOf: rows)
        for k in rows.indices where isNull(k) {
            let row = first + k
            let word = row >> 6
            if nulls.count <= word { nulls.append(contentsOf: repeatElement(0, count: word - nulls.count + 1)) }
            nulls[word] |= 1 << UInt64(row & 63)
        }
    }

    /// Equal when every row is (the value under a null does not count).
    public static func == (a: IntegerColumn, b: IntegerColumn) -> Bool {
        a.count == b.count && a.indices.allSatisfy { a[$0] == b[$0] }
    }
}
