/// The distinct values of a string column in first-seen order, and each one's position: what a column decoded or
/// listed (`StringColumn`) and a column being written (`ColumnBuilder.StringCodes`) number their rows' values by.
///
/// Finding a value costs, in this order: a comparison with the last value found (rows nearly always repeat it: the
/// same gateway, provider, model, method), a comparison with each value while there are at most `scanLimit` of
/// them (hashing a text costs more than several comparisons), then the hash table.
struct StringDictionary: Sendable {
    /// Up to this many values are compared one by one instead of hashing.
    static let scanLimit = 8

    /// Distinct values, in first-seen order.
    private(set) var values: [String] = []
    private var positions: [String: Int] = [:]
    /// The position `add` found last; -1 before any.
    private var last = -1

    init() {}

    /// The values of a decoded column; of two equal values the first is the one found.
    init(_ values: [String]) {
        self.values = values
        for (i, value) in values.enumerated() where positions[value] == nil { positions[value] = i }
    }

    var count: Int { values.count }

    /// The position of `value`, nil when it is not here.
    func position(of value: String) -> Int? {
        if values.count <= Self.scanLimit { return values.firstIndex(of: value) }
        return positions[value]
    }

    /// The position of `value`, added after the others when it is not here.
    @inline(__always)
    mutating func add(_ value: String) -> Int {
        if last >= 0 && values[last] == value { return last }
        if let found = position(of: value) {
            last = found
            return found
        }
        let added = values.count
        values.append(value)
        positions[value] = added
        last = added
        return added
    }
}
