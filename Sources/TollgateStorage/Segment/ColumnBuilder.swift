import TollgateModel

/// The columns of the segment being written, kept as they will be stored: each column's encoded bytes grow as rows
/// are appended (FORMAT.md, "Columns frame"). Decoded `ColumnBlock` rows were the largest part of the gateway's heap
/// (41 of 77 MB after 146,000 requests, by heaptrack); encoded, with the ids, offsets and lengths that stay as
/// arrays for the index frame to sort at sealing, they took 25 MB after about 300,000.
///
/// Which columns there are and how each is stored is `LogColumn`'s and `RecordField.column`'s. `encode()` is the columns frame's content;
/// `ColumnBlock.encode()` goes through a builder too, so there is one encoder.
struct ColumnBuilder: Sendable {
    let segment: UInt32
    private(set) var ids: [LogID] = []
    private(set) var offsets: [UInt64] = []
    private(set) var lengths: [UInt32] = []
    private var createdAt = WireWriter(capacity: 0)
    private var previousCreatedAt: Int64 = 0
    private var strings = [StringCodes](repeating: StringCodes(), count: RecordField.stringColumns.count)
    private var integers = RecordField.integerColumns.map { IntegerCodes(kind: $0.kind) }
    private var flags = [Bitmap](repeating: Bitmap(), count: RecordField.flagColumns.count)

    init(segment: UInt32) {
        self.segment = segment
    }

    var count: Int { ids.count }

    /// Where row `row`'s record is.
    func location(row: Int) -> RecordLocation {
        RecordLocation(segment: segment, offset: offsets[row], length: lengths[row])
    }

    /// Adds a row for `record`, stored at `location`.
    mutating func append(_ record: LogRecord, at location: RecordLocation) {
        appendPosition(id: record.id, offset: location.offset, length: location.length, createdAt: record.createdAt)
        for (slot, field) in RecordField.stringColumns.enumerated() { strings[slot].append(field.string(of: record)) }
        for (slot, field) in RecordField.integerColumns.enumerated() {
            integers[slot].append(field.integer(of: record))
        }
        for (slot, field) in RecordField.flagColumns.enumerated() { flags[slot].append(field.flag(of: record)) }
    }

    /// Adds row `row` of a decoded block.
    mutating func append(row i: Int, of b: ColumnBlock) {
        appendPosition(id: b.ids[i], offset: b.offsets[i], length: b.lengths[i], createdAt: b.createdAt[i])
        for slot in strings.indices { strings[slot].append(b.strings[slot][i]) }
        for slot in integers.indices { integers[slot].append(b.integers[slot][i]) }
        for slot in flags.indices { flags[slot].append(b.flags[slot][i]) }
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
    func rowsSet(_ field: RecordField) -> Int { flags[field.slot].setCount }

    /// The smallest and largest id, nil when empty.
    var idRange: (min: LogID, max: LogID)? { ids.range }

    /// The uncompressed content of a columns frame (FORMAT.md, "Columns frame"): every column, in tag order.
    func encode() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + count * 48)
        encode { out.append(contentsOf: $0) }
        return out
    }

    /// The size of `encode()`'s bytes, counted without making them: a seal declares it before it compresses them.
    var encodedSize: Int {
        func part(_ bytes: Int) -> Int { Varint.size(UInt64(bytes)) + bytes }
        var size = 1 + Varint.size(UInt64(count))
        for column in LogColumn.all {
            size += Varint.size(column.tag)
            switch column.kind {
            case .ids: size += part(count * 16)
            case .deltaVarints:
                var previous: UInt64 = 0
                var bytes = 0
                for o in offsets {
                    bytes += Varint.size(o &- previous)
                    previous = o
                }
                size += part(bytes)
            case .deltaZigzags: size += part(createdAt.bytes.count)
            case .lengths: size += part(lengths.reduce(0) { $0 + Varint.size(UInt64($1)) })
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
    /// it comes (FORMAT.md, "Columns frame"). The largest piece is `idsPerPiece` ids.
    func encode(into sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        var head = WireWriter(capacity: 32)
        head.u8(ColumnBlock.encodingVersion)
        head.varint(UInt64(count))
        for column in LogColumn.all {
            head.varint(column.tag)
            switch column.kind {
            case .ids:
                head.varint(UInt64(count * 16))
                try Self.emit(&head, sink)
                var w = WireWriter(capacity: Swift.min(count, Self.idsPerPiece) * 16)
                for start in stride(from: 0, to: count, by: Self.idsPerPiece) {
                    for id in ids[start..<Swift.min(start + Self.idsPerPiece, count)] {
                        w.id(LogIDBytes(high: id.high, low: id.low))
                    }
                    try Self.emit(&w, sink)
                }
            case .deltaVarints:
                var w = WireWriter(capacity: count * 2)
                var previous: UInt64 = 0
                for o in offsets {
                    w.varint(o &- previous)
                    previous = o
                }
                try Self.emit(&head, prefixing: w.bytes, to: sink)
            case .deltaZigzags: try Self.emit(&head, prefixing: createdAt.bytes, to: sink)
            case .lengths:
                var w = WireWriter(capacity: count * 2)
                for l in lengths { w.varint(UInt64(l)) }
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
        try encode().withUnsafeBytes { try ColumnBlock.decode($0, segment: segment) }
    }

    /// A builder of the first `rows` rows only (the segment cut back after a failed write).
    func prefix(_ rows: Int) throws -> ColumnBuilder {
        precondition(rows >= 0 && rows <= count)
        if rows == count { return self }
        var builder = ColumnBuilder(segment: segment)
        guard rows > 0 else { return builder }
        let decoded = try block()
        for row in 0..<rows { builder.append(row: row, of: decoded) }
        return builder
    }
}

extension ColumnBuilder {
    /// A dictionary-coded string column being written: distinct values once, a varint per row (0 for nil, else
    /// the value's position + 1).
    struct StringCodes: Sendable {
        private var dictionary: [String] = []
        private var lookup: [String: UInt64] = [:]
        private var codes = WireWriter(capacity: 0)
        /// The last value's code (0 before any): rows nearly always repeat it, and comparing costs less than hashing.
        private var lastCode: UInt64 = 0

        mutating func append(_ value: String?) {
            guard let value else { return codes.varint(0) }
            if lastCode != 0 && dictionary[Int(lastCode) - 1] == value { return codes.varint(lastCode) }
            if let code = lookup[value] {
                lastCode = code
                return codes.varint(code)
            }
            dictionary.append(value)
            let code = UInt64(dictionary.count)
            lookup[value] = code
            lastCode = code
            codes.varint(code)
        }

        /// The distinct values, in first-seen order.
        var values: [String] { dictionary }

        /// The size of the column's part of the content, without its length.
        var encodedSize: Int {
            var size = Varint.size(UInt64(dictionary.count)) + codes.bytes.count
            for value in dictionary {
                let bytes = value.utf8.count
                size += Varint.size(UInt64(bytes)) + bytes
            }
            return size
        }

        /// The column as one length-prefixed part of the content, after what `head` holds: the distinct values,
        /// then the codes.
        func encode(after head: inout WireWriter, into sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
            var values = WireWriter(capacity: dictionary.count * 16 + 8)
            values.varint(UInt64(dictionary.count))
            for value in dictionary { values.lengthPrefixed(value) }
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

        mutating func append(_ value: Int64?) {
            switch kind {
            case .varints: values.varint(UInt64(bitPattern: value ?? 0))
            case .nullable:
                present.append(value != nil)
                if let value { values.zigzag(value) }
            default: values.zigzag(value ?? 0)
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
