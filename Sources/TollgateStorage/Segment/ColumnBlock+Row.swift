import TollgateModel

extension ColumnBlock {
    /// Row `row` of a columns frame's content as a metadata record (what `metadataRecord(row:)` gives for a decoded
    /// block), read without decoding the other rows: the values before it are skipped, not kept. What one record's
    /// read from a sealed version 4 segment needs, at the cost of a walk over the frame instead of a decode of all
    /// of it. `id` is the row's, from the segment's index. Columns the frame lacks read as their defaults. A group
    /// of a grouped frame (FORMAT.md, *Format version 5*) is such a content; `rows`, when given, is the count its
    /// head must declare.
    static func decodeRow(_ bytes: UnsafeRawBufferPointer, row: Int, id: LogID, rows expected: Int? = nil) throws
        -> LogRecord
    {
        var r = WireReader(bytes)
        let rows = try readHead(&r)
        guard row >= 0, row < rows, expected.map({ $0 == rows }) ?? true else {
            throw SegmentError(.corrupt, "columns frame has \(rows) rows, no row \(row)")
        }
        var record = LogRecord(
            id: id, createdAt: 0, account: "", gateway: "", provider: "", model: nil, path: "", method: "",
            statusCode: 0, success: false, stream: false, durationMicros: 0, ttftMicros: nil, requestSize: 0,
            responseSize: 0)
        var seen = LogColumn.Set()
        while !r.isAtEnd {
            let tag = try r.varint()
            let length = try r.length()
            var c = WireReader(r.buffer, from: r.position, to: r.position + length)
            r.position += length
            guard let column = LogColumn(tag: tag), !seen.contains(column) else { continue }
            seen.insert(column)
            guard case .field(let field) = column else { continue }  // offsets and lengths: the caller's
            switch column.kind {
            case .ids, .deltaVarints, .lengths: break
            case .deltaZigzags:
                var value: Int64 = 0
                for _ in 0...row { value = value &+ (try c.zigzag()) }
                record.createdAt = value
            case .varints:
                try c.skipVarints(row)
                field.setInteger(Int64(UInt16(clamping: try c.varint())), in: &record)
            case .zigzags:
                try c.skipVarints(row)
                field.setInteger(try c.zigzag(), in: &record)
            case .nullable:
                let present = try c.slice((rows + 7) / 8)
                guard present[row / 8] & (1 << UInt8(row % 8)) != 0 else {
                    field.setInteger(nil, in: &record)
                    continue
                }
                var before = 0
                for i in 0..<(row / 8) { before += present[i].nonzeroBitCount }
                before += (present[row / 8] & (1 << UInt8(row % 8) - 1)).nonzeroBitCount
                try c.skipVarints(before)
                field.setInteger(try c.zigzag(), in: &record)
            case .bitmap:
                let bits = try c.slice((rows + 7) / 8)
                field.setFlag(bits[row / 8] & (1 << UInt8(row % 8)) != 0, in: &record)
            case .strings:
                let n = try c.length()
                var strings: [UnsafeRawBufferPointer] = []
                strings.reserveCapacity(n)
                for _ in 0..<n { strings.append(try c.slice(c.length())) }
                try c.skipVarints(row)
                let code = try c.varint()
                guard code <= UInt64(n) else { throw SegmentError(.corrupt, "string code \(code) of \(n)") }
                guard field != .metadata else { continue }  // the entries are in the payload part
                field.setString(code == 0 ? nil : String(decoding: strings[Int(code) - 1], as: UTF8.self), in: &record)
            }
        }
        // Columns a writer left out read as a decoded block reads them (`restricted(to:)`).
        for case .field(let field) in LogColumn.all where !seen.contains(.field(field)) {
            switch field.kind {
            case .bitmap: field.setFlag(field.absentFlag, in: &record)
            case .varints, .zigzags, .nullable: field.setInteger(field.absentInteger, in: &record)
            case .strings where field != .metadata: field.setString(nil, in: &record)
            default: break
            }
        }
        return record
    }
}
