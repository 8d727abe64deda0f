import TollgateModel

/// The columns of a segment's columns frame (FORMAT.md, "Columns frame"): where each record is (its offset and
/// length), then the record fields that have a column (`RecordField.column`, where each field's tag and storage
/// are declared). The writer (`ColumnBuilder`), the reader (`ColumnBlock.decode`) and the listing through segments
/// (`LogColumnScan`) follow it.
public enum LogColumn: Hashable, Sendable {
    /// The record's frame offset (a block location in a version 2 segment), tag 2.
    case offset
    /// The record's stored frame length (its encoding's length in a version 2 segment), tag 3.
    case length
    /// A record field's column.
    case field(RecordField)

    /// How a column's rows are stored.
    public enum Kind: Sendable {
        /// 16 bytes per row (the id column).
        case ids
        /// Unsigned varints of the difference from the previous row (frame offsets).
        case deltaVarints
        /// Zigzag varints of the difference from the previous row (created_at).
        case deltaZigzags
        /// An unsigned varint per row (stored frame lengths).
        case lengths
        /// An unsigned varint per row, never nil.
        case varints
        /// A zigzag varint per row, never nil.
        case zigzags
        /// A presence bitmap, then a zigzag varint per present row.
        case nullable
        /// One bit per row.
        case bitmap
        /// A dictionary of distinct values, then a varint code per row (0 = nil).
        case strings
    }

    /// The column's tag in the frame.
    var tag: UInt64 {
        switch self {
        case .offset: 2
        case .length: 3
        case .field(let field): field.column!.tag
        }
    }

    var kind: Kind {
        switch self {
        case .offset: .deltaVarints
        case .length: .lengths
        case .field(let field): field.kind
        }
    }

    /// A field column's position among the columns of its kind (`RecordField.slot`); -1 for the others.
    var slot: Int {
        if case .field(let field) = self { field.slot } else { -1 }
    }

    /// Every column, in tag order: the order of a columns frame.
    static let all: [LogColumn] =
        ([.offset, .length] + RecordField.allCases.filter { $0.column != nil }.map { .field($0) }).sorted {
            $0.tag < $1.tag
        }

    private static let byTag: [UInt64: LogColumn] = Dictionary(uniqueKeysWithValues: all.map { ($0.tag, $0) })

    /// The column with this tag, nil for a tag this build does not know.
    init?(tag: UInt64) {
        guard let column = Self.byTag[tag] else { return nil }
        self = column
    }

    /// Part of what a listing reads (tags 22 and on): a segment without them cannot answer a listing by itself.
    var isListingColumn: Bool { tag >= 22 }

    /// Where a row's record is: its id, offset and length (tags 1–3), which a version 3 segment's columns frame
    /// leaves to its grouped index.
    var isPosition: Bool { tag <= 3 }

    /// A set of columns, as a bit per tag.
    struct Set: Sendable, Hashable {
        var bits: UInt64 = 0
        static let all = Set(bits: LogColumn.all.reduce(0) { $0 | 1 << $1.tag })
        static let listing = Set(bits: LogColumn.all.filter(\.isListingColumn).reduce(0) { $0 | 1 << $1.tag })
        func contains(_ column: LogColumn) -> Bool { bits & 1 << column.tag != 0 }
        func contains(_ field: RecordField) -> Bool { contains(.field(field)) }
        static let positions = Set(bits: LogColumn.all.filter(\.isPosition).reduce(0) { $0 | 1 << $1.tag })
        mutating func insert(_ column: LogColumn) { bits |= 1 << column.tag }
        mutating func formUnion(_ other: Set) { bits |= other.bits }
        func isSuperset(of other: Set) -> Bool { bits & other.bits == other.bits }
    }
}
