import TollgateModel

extension ColumnBlock {
    static let encodingVersion: UInt8 = 1

    /// The uncompressed content of a columns frame (FORMAT.md, "Columns frame"), written by `ColumnBuilder`.
    func encode() -> [UInt8] {
        var builder = ColumnBuilder(segment: segment)
        for row in 0..<count { builder.append(row: row, of: self) }
        return builder.encode()
    }

    /// Each row's id and location (ids, offsets, lengths) as a version 3 segment's grouped index gives them, for a
    /// columns frame written without them (FORMAT.md, "Columns frame").
    typealias Positions = (ids: [LogID], offsets: [UInt64], lengths: [UInt32])

    /// Reads a columns frame content's version and row count (checked: a version this build reads, and no more
    /// rows than the bytes could hold) and returns the row count.
    static func readHead(_ r: inout WireReader) throws -> Int {
        let version = try r.u8()
        guard version == encodingVersion else {
            throw SegmentError(.unsupportedVersion, "columns encoding version \(version), this build reads 1")
        }
        let rows = try r.varint()
        guard rows <= UInt64(r.buffer.count) * 8 + 8 else {
            throw SegmentError(.corrupt, "columns frame declares \(rows) rows in \(r.buffer.count) bytes")
        }
        return Int(rows)
    }

    /// Decodes a columns frame's content. A frame without the id column takes its rows' positions from `positions`
    /// (given the row count; they must have that many rows), and is `corrupt` when there is none.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, segment: UInt32, positions: ((Int) throws -> Positions)? = nil
    ) throws -> ColumnBlock {
        var r = WireReader(bytes)
        let rows = try readHead(&r)
        var block = ColumnBlock(segment: segment)
        block.present = LogColumn.Set()
        var sawIDs = false

        while !r.isAtEnd {
            let tag = try r.varint()
            let length = try r.length()
            var c = WireReader(r.buffer, from: r.position, to: r.position + length)
            r.position += length
            guard let column = LogColumn(tag: tag), !block.present.contains(column) else {
                continue  // a column added by a later version (or repeated: the first one counts)
            }
            block.present.insert(column)
            switch column.kind {
            case .ids:
                guard length == rows * 16 else { throw SegmentError(.corrupt, "id column has \(length) bytes") }
                block.ids.reserveCapacity(rows)
                for _ in 0..<rows { block.ids.append(LogID(high: try c.bigEndianU64(), low: try c.bigEndianU64())) }
                sawIDs = true
            case .deltaVarints:
                block.offsets.reserveCapacity(rows)
                var previous: UInt64 = 0
                for _ in 0..<rows {
                    previous = previous &+ (try c.varint())
                    block.offsets.append(previous)
                }
            case .lengths:
                block.lengths.reserveCapacity(rows)
                for _ in 0..<rows {
                    guard let l = UInt32(exactly: try c.varint()) else { throw SegmentError(.corrupt, "frame length") }
                    block.lengths.append(l)
                }
            case .deltaZigzags:
                block.createdAt.reserveCapacity(rows)
                var previous: Int64 = 0
                for _ in 0..<rows {
                    previous = previous &+ (try c.zigzag())
                    block.createdAt.append(previous)
                }
            case .varints:
                var values = IntegerColumn()
                values.reserveCapacity(rows)
                for _ in 0..<rows { values.append(Int64(UInt16(clamping: try c.varint()))) }
                block.integers[column.slot] = values
            case .zigzags:
                var values = IntegerColumn()
                values.reserveCapacity(rows)
                for _ in 0..<rows { values.append(try c.zigzag()) }
                block.integers[column.slot] = values
            case .nullable: block.integers[column.slot] = try decodeNullable(&c, rows: rows)
            case .bitmap: block.flags[column.slot] = try decodeBitmap(&c, rows: rows)
            case .strings: block.strings[column.slot] = try decodeStrings(&c, rows: rows)
            }
        }
        if !sawIDs {
            guard let positions else { throw SegmentError(.corrupt, "columns frame has no id column") }
            guard block.offsets.isEmpty, block.lengths.isEmpty else {
                throw SegmentError(.corrupt, "columns frame has locations but no id column")
            }
            let given = try positions(rows)
            guard given.ids.count == rows, given.offsets.count == rows, given.lengths.count == rows else {
                throw SegmentError(.corrupt, "columns frame has \(rows) rows, its index \(given.ids.count)")
            }
            (block.ids, block.offsets, block.lengths) = given
            block.present.formUnion(.positions)
        }
        // Columns an older writer did not write read as their defaults.
        if block.offsets.isEmpty { block.offsets = Array(repeating: 0, count: rows) }
        if block.lengths.isEmpty { block.lengths = Array(repeating: 0, count: rows) }
        if block.createdAt.isEmpty { block.createdAt = Array(repeating: 0, count: rows) }
        let written = block.present
        block = block.restricted(to: written)
        return block
    }

    private static func decodeStrings(_ r: inout WireReader, rows: Int) throws -> StringColumn {
        let n = try r.length()  // each string takes at least one byte, so n is bounded by the bytes left
        var dictionary: [String] = []
        dictionary.reserveCapacity(n)
        for _ in 0..<n { dictionary.append(try r.string(r.length())) }
        var codes = StringColumn.Codes()
        codes.reserveCapacity(rows)
        for _ in 0..<rows {
            let code = try r.varint()
            if code == 0 {
                codes.append(StringColumn.nullCode)
            } else {
                guard code <= UInt64(n) else { throw SegmentError(.corrupt, "string code \(code) of \(n)") }
                codes.append(UInt32(code - 1))
            }
        }
        return StringColumn(dictionary: dictionary, codes: codes)
    }

    private static func decodeBitmap(_ r: inout WireReader, rows: Int) throws -> [Bool] {
        let bytes = try r.slice((rows + 7) / 8)
        var bits = [Bool](repeating: false, count: rows)
        for i in 0..<rows { bits[i] = bytes[i / 8] & (1 << UInt8(i % 8)) != 0 }
        return bits
    }

    private static func decodeNullable(_ r: inout WireReader, rows: Int) throws -> IntegerColumn {
        let present = try decodeBitmap(&r, rows: rows)
        var values = IntegerColumn()
        values.reserveCapacity(rows)
        for i in 0..<rows { values.append(present[i] ? try r.zigzag() : nil) }
        return values
    }
}
