import TollgateModel

/// The metadata of a segment's records, one array per column (`LogColumn`), rows in append order: what filters,
/// listings and rollups read without touching bodies. Sealed segments store it in their columns frame; the writer
/// keeps the active segment's encoded (`ColumnBuilder`).
public struct ColumnBlock: Sendable {
    public let segment: UInt32
    public var ids: [LogID] = []
    public var offsets: [UInt64] = []
    /// Stored frame length (compressed size plus the 10-byte frame header); in a version 2 segment the record's
    /// encoding length.
    public var lengths: [UInt32] = []
    /// Unix milliseconds.
    public var createdAt: [Int64] = []
    /// The `.strings` columns, by `LogColumn.slot`.
    var strings = [StringColumn](repeating: StringColumn(), count: LogColumn.stringColumns.count)
    /// The integer columns (`.varints`, `.zigzags`, `.nullable`), by `LogColumn.slot`.
    var integers = [IntegerColumn](repeating: IntegerColumn(), count: LogColumn.integerColumns.count)
    /// The `.bitmap` columns, by `LogColumn.slot`.
    var flags = [[Bool]](repeating: [], count: LogColumn.flagColumns.count)
    /// The columns the frame held; the others read as their defaults. A block built in memory has them all.
    var present = LogColumn.Set.all

    public init(segment: UInt32) {
        self.segment = segment
    }

    public var count: Int { ids.count }

    /// True when the segment was written with every column a log listing needs (tags 22 and on).
    public var hasListingColumns: Bool { present.isSuperset(of: .listing) }

    /// The rows of a string column.
    public func strings(_ column: LogColumn) -> StringColumn {
        precondition(column.kind == .strings, "\(column) is not a string column")
        return strings[column.slot]
    }

    /// The rows of an integer column (never nil in a non-nullable one).
    public func integers(_ column: LogColumn) -> IntegerColumn {
        precondition(column.slot >= 0 && column.kind != .strings && column.kind != .bitmap)
        return integers[column.slot]
    }

    /// The rows of a flag column.
    public func flags(_ column: LogColumn) -> [Bool] {
        precondition(column.kind == .bitmap, "\(column) is not a flag column")
        return flags[column.slot]
    }

    /// Where row `row`'s record is.
    public func location(row: Int) -> RecordLocation {
        RecordLocation(segment: segment, offset: offsets[row], length: lengths[row])
    }

    /// Adds a row for `record`, stored at `location`.
    public mutating func append(_ record: LogRecord, at location: RecordLocation) {
        ids.append(record.id)
        offsets.append(location.offset)
        lengths.append(location.length)
        createdAt.append(record.createdAt)
        for (slot, column) in LogColumn.stringColumns.enumerated() { strings[slot].append(column.string(of: record)) }
        for (slot, column) in LogColumn.integerColumns.enumerated() {
            integers[slot].append(column.integer(of: record))
        }
        for (slot, column) in LogColumn.flagColumns.enumerated() { flags[slot].append(column.flag(of: record)) }
    }

    /// This block as a segment written with only `columns` reads: every other column at its default.
    func restricted(to columns: LogColumn.Set) -> ColumnBlock {
        var block = self
        block.present = columns
        for column in LogColumn.allCases where !columns.contains(column) {
            switch column.kind {
            case .strings:
                block.strings[column.slot] = StringColumn(
                    dictionary: [], codes: StringColumn.Codes(repeating: StringColumn.nullCode, count: count))
            case .bitmap: block.flags[column.slot] = Array(repeating: column.absentFlag, count: count)
            case .varints, .zigzags, .nullable:
                block.integers[column.slot] = IntegerColumn(repeating: column.absentInteger, count: count)
            case .ids, .deltaVarints, .deltaZigzags, .lengths: break
            }
        }
        return block
    }

    /// The smallest and largest id, nil when empty.
    var idRange: (min: LogID, max: LogID)? { ids.range }
}

extension ColumnBlock: Equatable {
    /// Equal when every row has the same values (string dictionaries' order may differ); which columns a frame held
    /// is not compared.
    public static func == (a: ColumnBlock, b: ColumnBlock) -> Bool {
        a.segment == b.segment && a.ids == b.ids && a.offsets == b.offsets && a.lengths == b.lengths
            && a.createdAt == b.createdAt && a.strings == b.strings && a.integers == b.integers && a.flags == b.flags
    }
}

extension Array where Element == LogID {
    /// The smallest and largest id, nil when empty (one pass, no sorting).
    var range: (min: LogID, max: LogID)? {
        guard var low = first else { return nil }
        var high = low
        for id in self {
            if id < low { low = id }
            if high < id { high = id }
        }
        return (low, high)
    }
}
