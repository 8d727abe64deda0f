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

    /// Decodes a columns frame's content: version 1's (one content of every row), or a grouped frame's payload
    /// (version 5, `ColumnGroups`), whose groups `decompress` makes contents of. A frame without the id column
    /// takes its rows' positions from `positions` (given the row count; they must have that many rows), and is
    /// `corrupt` when there is none.
    static func decode(
        _ bytes: UnsafeRawBufferPointer, segment: UInt32, positions: ((Int) throws -> Positions)? = nil,
        decompress: ((UnsafeRawBufferPointer) throws -> [UInt8])? = nil
    ) throws -> ColumnBlock {
        if bytes.first == ColumnGroups.version {
            let groups = try ColumnGroups.Head(bytes, payloadSize: bytes.count)
            guard let positions, let decompress else {
                throw SegmentError(.corrupt, "grouped columns frame without its index or a decompressor")
            }
            var contents: [[UInt8]] = []
            contents.reserveCapacity(groups.count)
            for g in 0..<groups.count {
                contents.append(try decompress(UnsafeRawBufferPointer(rebasing: bytes[groups.range(of: g)])))
            }
            return try decode(
                groups: contents, rows: groups.rowCount, groupRows: groups.groupRows, segment: segment,
                positions: positions(groups.rowCount))
        }
        var r = WireReader(bytes)
        let rows = try readHead(&r)
        var block = ColumnBlock(segment: segment)
        var sawIDs = false
        block.present = try appendRows(&r, rows: rows, to: &block, positions: true, sawIDs: &sawIDs)
        if !sawIDs {
            guard let positions else { throw SegmentError(.corrupt, "columns frame has no id column") }
            guard block.offsets.isEmpty, block.lengths.isEmpty else {
                throw SegmentError(.corrupt, "columns frame has locations but no id column")
            }
            try block.setPositions(positions(rows), rows: rows)
        }
        // Columns an older writer did not write read as their defaults.
        if block.offsets.isEmpty { block.offsets = Array(repeating: 0, count: rows) }
        if block.lengths.isEmpty { block.lengths = Array(repeating: 0, count: rows) }
        if block.createdAt.isEmpty { block.createdAt = Array(repeating: 0, count: rows) }
        return block.restricted(to: block.present)
    }

    /// The rows of a grouped columns frame from its groups' contents (each a version 1 content of `groupRows` rows,
    /// fewer in the last, without positions) and the rows' positions.
    static func decode(
        groups: [[UInt8]], rows: Int, groupRows: Int, segment: UInt32, positions: Positions
    ) throws -> ColumnBlock {
        guard groupRows >= 1, groups.count == ColumnGroups.groupCount(rows: rows, groupRows: groupRows) else {
            throw SegmentError(.corrupt, "\(groups.count) column groups for \(rows) rows of \(groupRows)")
        }
        var block = ColumnBlock(segment: segment)
        block.present = LogColumn.Set()
        for (g, content) in groups.enumerated() {
            let expected = Swift.min(groupRows, rows - g * groupRows)
            var seen = LogColumn.Set()
            try content.withUnsafeBytes { bytes in
                var r = WireReader(bytes)
                let count = try readHead(&r)
                guard count == expected else {
                    throw SegmentError(.corrupt, "column group \(g) has \(count) rows, not \(expected)")
                }
                var sawIDs = false
                seen = try appendRows(&r, rows: count, to: &block, positions: false, sawIDs: &sawIDs)
            }
            block.present.formUnion(seen)
            // A column the group lacks reads as its default for the group's rows (and as the others hold it for
            // theirs: a group is read alone).
            for case .field(let field) in LogColumn.all where !seen.contains(.field(field)) {
                block.appendDefaults(field, rows: expected)
            }
        }
        try block.setPositions(positions, rows: rows)
        return block.restricted(to: block.present)
    }

    /// Sets the rows' ids and locations (`positions`, which must have `rows` of each).
    private mutating func setPositions(_ given: Positions, rows: Int) throws {
        guard given.ids.count == rows, given.offsets.count == rows, given.lengths.count == rows else {
            throw SegmentError(.corrupt, "columns frame has \(rows) rows, its index \(given.ids.count)")
        }
        (ids, offsets, lengths) = given
        present.formUnion(.positions)
    }

    /// Appends `rows` default values of `field`'s column.
    private mutating func appendDefaults(_ field: RecordField, rows: Int) {
        switch field.kind {
        case .strings: strings[field.slot].appendRows(rows, dictionary: []) { 0 }
        case .bitmap: flags[field.slot].append(contentsOf: repeatElement(field.absentFlag, count: rows))
        case .varints, .zigzags, .nullable:
            for _ in 0..<rows { integers[field.slot].append(field.absentInteger) }
        case .deltaZigzags: createdAt.append(contentsOf: repeatElement(0, count: rows))
        case .ids, .deltaVarints, .lengths: break
        }
    }

    /// Reads a content's columns after its head and appends their `rows` rows to `block`'s; returns the columns
    /// read. With `positions` false, id, offset and length columns are skipped (a group's rows take them from the
    /// index).
    private static func appendRows(
        _ r: inout WireReader, rows: Int, to block: inout ColumnBlock, positions: Bool, sawIDs: inout Bool
    ) throws -> LogColumn.Set {
        var seen = LogColumn.Set()
        while !r.isAtEnd {
            let tag = try r.varint()
            let length = try r.length()
            var c = WireReader(r.buffer, from: r.position, to: r.position + length)
            r.position += length
            guard let column = LogColumn(tag: tag), !seen.contains(column) else {
                continue  // a column added by a later version (or repeated: the first one counts)
            }
            if column.isPosition && !positions { continue }
            seen.insert(column)
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
                block.createdAt.reserveCapacity(block.createdAt.count + rows)
                var previous: Int64 = 0
                for _ in 0..<rows {
                    previous = previous &+ (try c.zigzag())
                    block.createdAt.append(previous)
                }
            case .varints:
                block.integers[column.slot].reserveCapacity(block.integers[column.slot].count + rows)
                for _ in 0..<rows { block.integers[column.slot].append(Int64(UInt16(clamping: try c.varint()))) }
            case .zigzags:
                block.integers[column.slot].reserveCapacity(block.integers[column.slot].count + rows)
                for _ in 0..<rows { block.integers[column.slot].append(try c.zigzag()) }
            case .nullable: try appendNullable(&c, rows: rows, to: &block.integers[column.slot])
            case .bitmap: block.flags[column.slot].append(contentsOf: try decodeBitmap(&c, rows: rows))
            case .strings: try appendStrings(&c, rows: rows, to: &block.strings[column.slot])
            }
        }
        return seen
    }

    private static func appendStrings(_ r: inout WireReader, rows: Int, to column: inout StringColumn) throws {
        let n = try r.length()  // each string takes at least one byte, so n is bounded by the bytes left
        var dictionary: [String] = []
        dictionary.reserveCapacity(n)
        for _ in 0..<n { dictionary.append(try r.string(r.length())) }
        column.reserveCapacity(column.count + rows)
        try column.appendRows(rows, dictionary: dictionary) {
            let code = try r.varint()
            guard code <= UInt64(n) else { throw SegmentError(.corrupt, "string code \(code) of \(n)") }
            return code
        }
    }

    private static func decodeBitmap(_ r: inout WireReader, rows: Int) throws -> [Bool] {
        let bytes = try r.slice((rows + 7) / 8)
        var bits = [Bool](repeating: false, count: rows)
        for i in 0..<rows { bits[i] = bytes[i / 8] & (1 << UInt8(i % 8)) != 0 }
        return bits
    }

    private static func appendNullable(_ r: inout WireReader, rows: Int, to column: inout IntegerColumn) throws {
        let present = try decodeBitmap(&r, rows: rows)
        column.reserveCapacity(column.count + rows)
        for i in 0..<rows { column.append(present[i] ? try r.zigzag() : nil) }
    }
}
