import TollgateModel

/// The metadata of a segment's records, one array per column (`LogColumn`, `RecordField.column`), rows in append order: what filters,
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
    /// The `.strings` columns, by `RecordField.slot`.
    var strings = [StringColumn](repeating: StringColumn(), count: RecordField.stringColumns.count)
    /// The integer columns (`.varints`, `.zigzags`, `.nullable`), by `RecordField.slot`.
    var integers = [IntegerColumn](repeating: IntegerColumn(), count: RecordField.integerColumns.count)
    /// The `.bitmap` columns, by `RecordField.slot`.
    var flags = [[Bool]](repeating: [], count: RecordField.flagColumns.count)
    /// The columns the frame held; the others read as their defaults. A block built in memory has them all.
    var present = LogColumn.Set.all

    public init(segment: UInt32) {
        self.segment = segment
    }

    public var count: Int { ids.count }

    /// True when the segment was written with every column a log listing needs (tags 22 and on).
    public var hasListingColumns: Bool { present.isSuperset(of: .listing) }

    /// The rows of a string column.
    public func strings(_ field: RecordField) -> StringColumn {
        precondition(field.kind == .strings, "\(field) is not a string column")
        return strings[field.slot]
    }

    /// The rows of an integer column (never nil in a non-nullable one).
    public func integers(_ field: RecordField) -> IntegerColumn {
        precondition(field.slot >= 0 && field.kind != .strings && field.kind != .bitmap)
        return integers[field.slot]
    }

    /// The rows of a flag column.
    public func flags(_ field: RecordField) -> [Bool] {
        precondition(field.kind == .bitmap, "\(field) is not a flag column")
        return flags[field.slot]
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
        withUnsafePointer(to: record) { record in
            for (slot, field) in RecordField.stringColumns.enumerated() {
                strings[slot].append(field.string(of: record))
            }
        }
        for (slot, field) in RecordField.integerColumns.enumerated() {
            integers[slot].append(field.integer(of: record))
        }
        for (slot, field) in RecordField.flagColumns.enumerated() { flags[slot].append(field.flag(of: record)) }
    }

    /// Row `row` as a record of its metadata part (FORMAT.md, *Format version 4*): every field with a column but
    /// the metadata entries and the custom cost, whose columns hold them only in part; no headers or bodies. A
    /// version 4 segment's reader completes it with the record's payload part.
    func metadataRecord(row: Int) -> LogRecord {
        var record = LogRecord(
            id: ids[row], createdAt: createdAt[row], account: "", gateway: "", provider: "", model: nil, path: "",
            method: "", statusCode: 0, success: false, stream: false, durationMicros: 0, ttftMicros: nil,
            requestSize: 0, responseSize: 0)
        for (slot, field) in RecordField.stringColumns.enumerated() where field != .metadata {
            field.setString(strings[slot][row], in: &record)
        }
        for (slot, field) in RecordField.integerColumns.enumerated() {
            field.setInteger(integers[slot][row], in: &record)
        }
        for (slot, field) in RecordField.flagColumns.enumerated() { field.setFlag(flags[slot][row], in: &record) }
        return record
    }

    /// This block as a segment written with only `columns` reads: every other column at its default.
    func restricted(to columns: LogColumn.Set) -> ColumnBlock {
        var block = self
        block.present = columns
        for case .field(let field) in LogColumn.all where !columns.contains(field) {
            switch field.kind {
            case .strings:
                block.strings[field.slot] = StringColumn(
                    dictionary: [], codes: StringColumn.Codes(repeating: StringColumn.nullCode, count: count))
            case .bitmap: block.flags[field.slot] = Array(repeating: field.absentFlag, count: count)
            case .varints, .zigzags, .nullable:
                block.integers[field.slot] = IntegerColumn(repeating: field.absentInteger, count: count)
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
