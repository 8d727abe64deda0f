import Synchronization
import TollgateModel

/// The columns of the segment being written, kept as they will be stored: each column's encoded bytes grow as rows
/// are appended (FORMAT.md, "Columns frame"). Decoded `ColumnBlock` rows were the largest part of the gateway's heap
/// (41 of 77 MB after 146,000 requests, by heaptrack); encoded, with the ids, offsets and lengths that stay as
/// arrays for the index frame to sort at sealing, they took 25 MB after about 300,000.
///
/// A row's field values wait in a small stage (`Stage`, 64 rows) and go into their columns a column at a time.
///
/// Which columns there are and how each is stored is `LogColumn`'s and `RecordField.column`'s. `encode()` is the columns frame's content;
/// `ColumnBlock.encode()` goes through a builder too, so there is one encoder.
///
/// A version 5 segment's columns are cut into row groups (FORMAT.md, *Format version 5*): a builder with
/// `groupRows` below `Int.max` encodes each group's content when its last row is appended and starts the next
/// group's columns afresh; the ids, offsets and lengths stay whole, for the index.
struct ColumnBuilder: Sendable {
    let segment: UInt32
    /// Names this builder among every one made in the process: the positions of its string columns' values
    /// (`lastRow`) mean something only beside its own dictionaries, which a rebuilt builder numbers afresh.
    let generation: UInt64
    /// The rows of each group; `Int.max`: one group, the columns of a segment before version 5.
    let groupRows: Int
    private(set) var ids: [LogID] = []
    private(set) var offsets: [UInt64] = []
    private(set) var lengths: [UInt32] = []
    /// The contents of the groups whose rows are all appended, in order, each without the positions columns.
    private(set) var closedGroups: [[UInt8]] = []
    /// The first row of the group being written.
    private var groupStart = 0
    /// By flag column, the rows of the closed groups that have it set.
    private var closedRowsSet = [Int](repeating: 0, count: RecordField.flagColumns.count)
    private var createdAt = WireWriter(capacity: 0)
    private var previousCreatedAt: Int64 = 0
    private var strings = [StringCodes](repeating: StringCodes(), count: RecordField.stringColumns.count)
    private var integers = RecordField.integerColumns.map { IntegerCodes(kind: $0.kind) }
    private var flags = [Bitmap](repeating: Bitmap(), count: RecordField.flagColumns.count)
    /// The field values of the rows appended since the last `flush`, not yet in their columns' bytes.
    private var staged = Stage()
    /// Where in the stage the last row appended lies (a flush leaves the stage's values as they were).
    private var lastStaged = 0

    private static let generations = Atomic<UInt64>(0)

    init(segment: UInt32, groupRows: Int = .max) {
        precondition(groupRows >= 1)
        self.segment = segment
        self.groupRows = groupRows
        generation = Self.generations.add(1, ordering: .relaxed).newValue
    }

    var count: Int { ids.count }

    /// Whether the columns are cut into groups (a version 5 segment's).
    var isGrouped: Bool { groupRows != .max }

    /// The rows of the group being written.
    private var groupCount: Int { ids.count &- groupStart }

    /// Where row `row`'s record is.
    func location(row: Int) -> RecordLocation {
        RecordLocation(segment: segment, offset: offsets[row], length: lengths[row])
    }

    /// Adds a row for `record`, stored at `location`.
    mutating func append(_ record: LogRecord, at location: RecordLocation) {
        withUnsafePointer(to: record) { append($0, at: location) }
    }

    /// Adds a row for the record `record` points to, stored at `location`. Its fields are read where the record
    /// lies (the writer's come from their batch's array), each on its own: the record is never passed on whole, which
    /// would copy it first.
    mutating func append(_ record: UnsafePointer<LogRecord>, at location: RecordLocation) {
        appendPosition(
            id: record.pointee.id, offset: location.offset, length: location.length,
            createdAt: record.pointee.createdAt)
        // The field lists read once: each read of a global checks that it is initialized (a call), and a row reads
        // them for every column.
        let strings = RecordField.stringColumns
        let integers = RecordField.integerColumns
        let flags = RecordField.flagColumns
        stageRow(
            string: { strings[$0].string(of: record) },
            integer: { integers[$0].integer(of: record.pointee) },
            flag: { flags[$0].flag(of: record.pointee) })
    }

    /// Adds row `row` of a decoded block.
    mutating func append(row i: Int, of b: ColumnBlock) {
        appendPosition(id: b.ids[i], offset: b.offsets[i], length: b.lengths[i], createdAt: b.createdAt[i])
        stageRow(string: { b.strings[$0][i] }, integer: { b.integers[$0][i] }, flag: { b.flags[$0][i] })
    }

    /// Stages a row's values, each column's given by its slot; flushes a full stage.
    @inline(__always)
    private mutating func stageRow(
        string: (Int) -> String?, integer: (Int) -> Int64?, flag: (Int) -> Bool
    ) {
        let row = staged.rows
        lastStaged = row
        staged.values.withUnsafeMutableBufferPointer { values in
            strings.withUnsafeMutableBufferPointer { strings in
                for slot in strings.indices {
                    values[Stage.stringColumn(slot) &+ row] = strings[slot].position(of: string(slot))
                }
            }
            var present: UInt64 = 0
            for slot in integers.indices {
                let value = integer(slot)
                if value != nil { present |= 1 &<< UInt64(slot) }
                values[Stage.integerColumn(slot) &+ row] = UInt64(bitPattern: value ?? 0)
            }
            var set: UInt64 = 0
            for slot in flags.indices where flag(slot) { set |= 1 &<< UInt64(slot) }
            values[Stage.presentColumn &+ row] = present
            values[Stage.flagsColumn &+ row] = set
        }
        staged.rows = row &+ 1
        if groupCount == groupRows {
            flush()
            closeGroup()
        } else if staged.rows == Stage.capacity {
            flush()
        }
    }

    /// Encodes the group being written, whose rows are all appended, and starts the next.
    private mutating func closeGroup() {
        closedGroups.append(encode(positions: false))
        for slot in flags.indices { closedRowsSet[slot] += flags[slot].setCount }
        groupStart = ids.count
        createdAt = WireWriter(capacity: 0)
        previousCreatedAt = 0
        for slot in strings.indices { strings[slot].startGroup() }
        integers = RecordField.integerColumns.map { IntegerCodes(kind: $0.kind) }
        flags = [Bitmap](repeating: Bitmap(), count: RecordField.flagColumns.count)
    }

    /// Every group's content, without the positions columns: the closed groups', then the one being written when
    /// it has rows.
    func groupContents() -> [[UInt8]] {
        groupCount > 0 ? closedGroups + [encode(positions: false)] : closedGroups
    }

    /// Moves the staged rows' values into their columns' bytes. Appending stages each row's values and encodes
    /// them a column at a time every `Stage.capacity` rows: a value then costs a store into the stage and a place
    /// in one loop over a column, instead of a call and the checks of a growing array for each value of each row
    /// (more than half of what a usage record cost the writer).
    mutating func flush() {
        let rows = staged.rows
        guard rows > 0 else { return }
        staged.values.withUnsafeBufferPointer { values in
            func column(_ start: Int) -> UnsafeBufferPointer<UInt64> {
                UnsafeBufferPointer(rebasing: values[start..<(start + rows)])
            }
            let present = column(Stage.presentColumn)
            let set = column(Stage.flagsColumn)
            for slot in strings.indices { strings[slot].appendCodes(column(Stage.stringColumn(slot))) }
            for slot in integers.indices {
                integers[slot].append(column(Stage.integerColumn(slot)), present: present, bit: slot)
            }
            for slot in flags.indices { flags[slot].append(set, bit: slot) }
        }
        staged.rows = 0
    }

    /// Writes the values of the last row appended to the builder `builder` points to into `words`, `Stage.rowWords`
    /// of them in `Stage`'s order: each string column's value as its position in the column's dictionary + 1 (0 for
    /// nil; `values(of:slot:from:to:)`), each integer column's bit pattern (0 for nil), a word of which integers are
    /// there, a word of flags. The catalog takes a log's columns from them instead of reading its record again
    /// (`Catalog.ActiveColumns`).
    ///
    /// Static, the builder read where `builder` points: a method called on a builder read through a pointer copies
    /// it first (every array retained, then released).
    static func lastRow(of builder: UnsafePointer<ColumnBuilder>, into words: UnsafeMutableBufferPointer<UInt64>) {
        precondition(words.count == Stage.rowWords)
        let row = builder.pointee.lastStaged
        builder.pointee.staged.values.withUnsafeBufferPointer { values in
            guard let to = words.baseAddress, let from = values.baseAddress else { return }
            // The stage holds `rowWords` columns of `capacity` rows.
            for column in 0..<Stage.rowWords { to[column] = from[column &* Stage.capacity &+ row] }
        }
    }

    /// The distinct values of string column `slot` of the builder `builder` points to, from position `start` up to
    /// `end`, in first-seen order (the dictionary only grows).
    static func values(
        of builder: UnsafePointer<ColumnBuilder>, slot: Int, from start: Int, to end: Int
    ) -> ArraySlice<String> {
        builder.pointee.strings[slot].values[start..<end]
    }

    /// This builder with every staged row in its columns: what the readers of whole columns read.
    private var flushed: ColumnBuilder {
        guard staged.rows > 0 else { return self }
        var copy = self
        copy.flush()
        return copy
    }

    private mutating func appendPosition(id: LogID, offset: UInt64, length: UInt32, createdAt at: Int64) {
        ids.append(id)
        offsets.append(offset)
        lengths.append(length)
        createdAt.zigzag(at &- previousCreatedAt)
        previousCreatedAt = at
    }

    /// The distinct values of a string column so far, in first-seen order.
    func values(_ field: RecordField) -> [String] { strings[field.slot].values }

    /// How many rows have a flag column set.
    func rowsSet(_ field: RecordField) -> Int { closedRowsSet[field.slot] + flushed.flags[field.slot].setCount }

    /// The smallest and largest id, nil when empty.
    var idRange: (min: LogID, max: LogID)? { ids.range }

    /// The uncompressed content of a columns frame (FORMAT.md, "Columns frame"): every column, in tag order; of
    /// the group being written when the columns are grouped.
    func encode(positions: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + groupCount * 48)
        encode(positions: positions) { out.append(contentsOf: $0) }
        return out
    }

    /// The size of `encode()`'s bytes, counted without making them: a seal declares it before it compresses them.
    var encodedSize: Int { encodedSize(positions: true) }

    /// The size of `encode(positions:into:)`'s bytes.
    func encodedSize(positions: Bool) -> Int {
        guard staged.rows == 0 else { return flushed.encodedSize(positions: positions) }
        func part(_ bytes: Int) -> Int { Varint.size(UInt64(bytes)) + bytes }
        let rows = groupCount
        var size = 1 + Varint.size(UInt64(rows))
        for column in LogColumn.all where positions || !column.isPosition {
            size += Varint.size(column.tag)
            switch column.kind {
            case .ids: size += part(rows * 16)
            case .deltaVarints:
                var previous: UInt64 = 0
                var bytes = 0
                for o in offsets[groupStart...] {
                    bytes += Varint.size(o &- previous)
                    previous = o
                }
                size += part(bytes)
            case .deltaZigzags: size += part(createdAt.bytes.count)
            case .lengths: size += part(lengths[groupStart...].reduce(0) { $0 + Varint.size(UInt64($1)) })
            case .varints, .zigzags, .nullable: size += part(integers[column.slot].encodedSize)
            case .bitmap: size += part(flags[column.slot].bytes.count)
            case .strings: size += part(strings[column.slot].encodedSize)
            }
        }
        return size
    }

    /// Ids a piece of the ids column holds when the content is handed over in pieces.
    static let idsPerPiece = 4_096

    /// The columns frame's content handed to `sink` in pieces as it is made, never whole: a seal compresses it as
    /// it comes (FORMAT.md, "Columns frame"). The largest piece is `idsPerPiece` ids. Without `positions`, the id,
    /// offset and length columns are left out (a version 3 segment's grouped index holds them). When the columns
    /// are grouped, the content of the group being written.
    func encode(positions: Bool = true, into sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        guard staged.rows == 0 else { return try flushed.encode(positions: positions, into: sink) }
        let rows = groupStart..<count
        var head = WireWriter(capacity: 32)
        head.u8(ColumnBlock.encodingVersion)
        head.varint(UInt64(rows.count))
        for column in LogColumn.all where positions || !column.isPosition {
            head.varint(column.tag)
            switch column.kind {
            case .ids:
                head.varint(UInt64(rows.count * 16))
                try Self.emit(&head, sink)
                var w = WireWriter(capacity: Swift.min(rows.count, Self.idsPerPiece) * 16)
                for start in stride(from: rows.lowerBound, to: rows.upperBound, by: Self.idsPerPiece) {
                    for id in ids[start..<Swift.min(start + Self.idsPerPiece, rows.upperBound)] {
                        w.id(LogIDBytes(high: id.high, low: id.low))
                    }
                    try Self.emit(&w, sink)
                }
            case .deltaVarints:
                var w = WireWriter(capacity: rows.count * 2)
                var previous: UInt64 = 0
                for o in offsets[rows] {
                    w.varint(o &- previous)
                    previous = o
                }
                try Self.emit(&head, prefixing: w.bytes, to: sink)
            case .deltaZigzags: try Self.emit(&head, prefixing: createdAt.bytes, to: sink)
            case .lengths:
                var w = WireWriter(capacity: rows.count * 2)
                for l in lengths[rows] { w.varint(UInt64(l)) }
                try Self.emit(&head, prefixing: w.bytes, to: sink)
            case .varints, .zigzags, .nullable: try integers[column.slot].encode(after: &head, into: sink)
            case .bitmap: try Self.emit(&head, prefixing: flags[column.slot].bytes, to: sink)
            case .strings: try strings[column.slot].encode(after: &head, into: sink)
            }
        }
        try Self.emit(&head, sink)
    }

    /// Hands what `w` holds to `sink` and empties it.
    fileprivate static func emit(_ w: inout WireWriter, _ sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        guard !w.bytes.isEmpty else { return }
        try w.bytes.withUnsafeBytes(sink)
        w.bytes.removeAll(keepingCapacity: true)
    }

    /// Hands over `head` with the length of `parts` added, then `parts`: one length-prefixed part of the content.
    fileprivate static func emit(
        _ head: inout WireWriter, prefixing parts: [UInt8]..., to sink: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        head.varint(UInt64(parts.reduce(0) { $0 + $1.count }))
        try emit(&head, sink)
        for part in parts where !part.isEmpty { try part.withUnsafeBytes(sink) }
    }

    /// The rows decoded, as a reader of the sealed segment will see them.
    func block() throws -> ColumnBlock {
        guard isGrouped else { return try encode().withUnsafeBytes { try ColumnBlock.decode($0, segment: segment) } }
        return try ColumnBlock.decode(
            groups: groupContents(), rows: count, groupRows: groupRows, segment: segment,
            positions: (ids, offsets, lengths))
    }

    /// These rows in one group: the columns of a segment before version 5.
    func ungrouped() throws -> ColumnBuilder {
        guard isGrouped else { return self }
        let decoded = try block()
        var builder = ColumnBuilder(segment: segment)
        for row in 0..<decoded.count { builder.append(row: row, of: decoded) }
        builder.flush()
        return builder
    }

    /// A builder of the first `rows` rows only (the segment cut back after a failed write).
    func prefix(_ rows: Int) throws -> ColumnBuilder {
        precondition(rows >= 0 && rows <= count)
        if rows == count { return self }
        var builder = ColumnBuilder(segment: segment, groupRows: groupRows)
        guard rows > 0 else { return builder }
        let decoded = try block()
        for row in 0..<rows { builder.append(row: row, of: decoded) }
        return builder
    }
}

extension ColumnBuilder {
    /// A dictionary-coded string column being written: distinct values once, a varint per row (0 for nil, else
    /// the value's position + 1).
    ///
    /// The dictionary holds the segment's values; each group stores only its own (`groupValues`), numbered in the
    /// order the group first has them, which is the segment's order while there is one group.
    struct StringCodes: Sendable {
        private var dictionary = StringDictionary()
        private var codes = WireWriter(capacity: 0)
        /// By position in `dictionary`, the value's code in the group being written (its position in
        /// `groupValues` + 1), 0 when no row of the group has it.
        private var groupCodes: [UInt32] = []
        /// Positions in `dictionary` of the values the group being written has, in the order it first had them.
        private var groupValues: [UInt32] = []

        /// The position of `value` in the segment's dictionary + 1 (0 for nil), added if it is new; `appendCodes`
        /// gives the row its code in the group being written.
        @inline(__always)
        mutating func position(of value: String?) -> UInt64 {
            guard let value else { return 0 }
            return UInt64(dictionary.add(value)) &+ 1
        }

        /// Forgets the group's values and codes: the next group's column starts empty.
        mutating func startGroup() {
            for position in groupValues { groupCodes[Int(position)] = 0 }
            groupValues.removeAll(keepingCapacity: true)
            codes = WireWriter(capacity: 0)
        }

        /// Writes the codes of rows' values, given as `position(of:)` gave them: each value's code in the group
        /// being written (its place among the group's values + 1, 0 for nil), the group's first row with a value
        /// giving it the next.
        mutating func appendCodes(_ rows: UnsafeBufferPointer<UInt64>) {
            let highest = Int(truncatingIfNeeded: rows.max() ?? 0)
            if highest > groupCodes.count {
                groupCodes.append(contentsOf: repeatElement(0, count: highest - groupCodes.count))
            }
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: rows.count) { coded in
                groupCodes.withUnsafeMutableBufferPointer { groupCodes in
                    for (k, position) in rows.enumerated() {
                        guard position != 0 else {
                            coded[k] = 0
                            continue
                        }
                        let p = Int(truncatingIfNeeded: position &- 1)
                        var code = groupCodes[p]
                        if code == 0 {
                            groupValues.append(UInt32(truncatingIfNeeded: p))
                            code = UInt32(truncatingIfNeeded: groupValues.count)
                            groupCodes[p] = code
                        }
                        coded[k] = UInt64(code)
                    }
                }
                codes.varints(rows.count) { coded[$0] }
            }
        }

        /// The distinct values, in first-seen order.
        var values: [String] { dictionary.values }

        /// The size of the column's part of the content, without its length.
        var encodedSize: Int {
            var size = Varint.size(UInt64(groupValues.count)) + codes.bytes.count
            for position in groupValues {
                let bytes = dictionary.values[Int(position)].utf8.count
                size += Varint.size(UInt64(bytes)) + bytes
            }
            return size
        }

        /// The column as one length-prefixed part of the content, after what `head` holds: the group's distinct
        /// values, then the codes.
        func encode(after head: inout WireWriter, into sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
            var values = WireWriter(capacity: groupValues.count * 16 + 8)
            values.varint(UInt64(groupValues.count))
            for position in groupValues { values.lengthPrefixed(dictionary.values[Int(position)]) }
            try ColumnBuilder.emit(&head, prefixing: values.bytes, codes.bytes, to: sink)
        }
    }

    /// One bit per row, least significant bit first.
    struct Bitmap: Sendable {
        private(set) var bytes: [UInt8] = []
        private var count = 0

        mutating func append(_ bit: Bool) {
            if count % 8 == 0 { bytes.append(0) }
            if bit { bytes[bytes.count - 1] |= 1 << UInt8(count % 8) }
            count += 1
        }

        /// Appends bit `bit` of each of `rows`.
        mutating func append(_ rows: UnsafeBufferPointer<UInt64>, bit: Int) {
            let total = count + rows.count
            let needed = (total + 7) / 8
            if bytes.count < needed { bytes.append(contentsOf: repeatElement(0, count: needed - bytes.count)) }
            bytes.withUnsafeMutableBufferPointer { bytes in
                var at = count
                for row in rows {
                    bytes[at &>> 3] |= UInt8(truncatingIfNeeded: (row &>> UInt64(bit)) & 1) &<< UInt8(at & 7)
                    at &+= 1
                }
            }
            count = total
        }

        /// Rows whose bit is set (the bits after the last row are never set).
        var setCount: Int { bytes.reduce(0) { $0 + $1.nonzeroBitCount } }
    }

    /// An integer column being written: unsigned or zigzag varints, or (nullable) a presence bitmap and the
    /// present values as zigzag varints.
    struct IntegerCodes: Sendable {
        let kind: LogColumn.Kind
        private var present = Bitmap()
        private var values = WireWriter(capacity: 0)

        init(kind: LogColumn.Kind) { self.kind = kind }

        /// Appends rows' values (each a value's bit pattern, 0 for nil); bit `bit` of each of `present` says whether
        /// the row's value is there.
        mutating func append(_ rows: UnsafeBufferPointer<UInt64>, present flags: UnsafeBufferPointer<UInt64>, bit: Int)
        {
            switch kind {
            case .varints: values.varints(rows.count) { rows[$0] }
            case .nullable:
                present.append(flags, bit: bit)
                let mask = UInt64(1) &<< UInt64(bit)
                values.varints(rows.count, where: { flags[$0] & mask != 0 }) {
                    Varint.zigzag(Int64(bitPattern: rows[$0]))
                }
            default: values.varints(rows.count) { Varint.zigzag(Int64(bitPattern: rows[$0])) }
            }
        }

        /// The size of the column's part of the content, without its length.
        var encodedSize: Int { kind == .nullable ? present.bytes.count + values.bytes.count : values.bytes.count }

        /// The column as one length-prefixed part of the content, after what `head` holds.
        func encode(after head: inout WireWriter, into sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
            if kind == .nullable {
                try ColumnBuilder.emit(&head, prefixing: present.bytes, values.bytes, to: sink)
            } else {
                try ColumnBuilder.emit(&head, prefixing: values.bytes, to: sink)
            }
        }
    }
}

extension ColumnBuilder {
    /// Rows' field values waiting to be encoded into their columns, column by column: `capacity` values of each
    /// string column (codes), then of each integer column (bit patterns, 0 for nil), then a word per row of which
    /// integers are there, then a word per row of flags.
    struct Stage: Sendable {
        static let capacity = 64
        static let presentColumn = (RecordField.stringColumns.count + RecordField.integerColumns.count) * capacity
        static let flagsColumn = presentColumn + capacity

        var values: [UInt64]
        var rows = 0

        init() {
            // A row's integers' presence and its flags are a bit each in one word.
            precondition(RecordField.integerColumns.count <= 64 && RecordField.flagColumns.count <= 64)
            values = [UInt64](repeating: 0, count: Self.flagsColumn + Self.capacity)
        }

        @inline(__always) static func stringColumn(_ slot: Int) -> Int { slot &* capacity }
        @inline(__always) static func integerColumn(_ slot: Int) -> Int {
            (RecordField.stringColumns.count &+ slot) &* capacity
        }
        /// The values a row has in the stage, one in each of its columns.
        static let rowWords = flagsColumn / capacity + 1
    }
}
