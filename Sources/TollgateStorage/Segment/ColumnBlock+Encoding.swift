import TollgateModel

extension ColumnBlock {
    static let encodingVersion: UInt8 = 1

    enum Tag {
        static let id: UInt64 = 1
        static let offset: UInt64 = 2
        static let length: UInt64 = 3
        static let createdAt: UInt64 = 4
        static let account: UInt64 = 5
        static let gateway: UInt64 = 6
        static let provider: UInt64 = 7
        static let model: UInt64 = 8
        static let statusCode: UInt64 = 9
        static let success: UInt64 = 10
        static let stream: UInt64 = 11
        static let tokensIn: UInt64 = 12
        static let tokensOut: UInt64 = 13
        static let cachedTokensIn: UInt64 = 14
        static let cacheWriteTokens: UInt64 = 15
        static let cacheWrite1hTokens: UInt64 = 16
        static let reasoningTokens: UInt64 = 17
        static let durationMicros: UInt64 = 18
        static let ttftMicros: UInt64 = 19
        static let requestSize: UInt64 = 20
        static let responseSize: UInt64 = 21
    }

    /// The uncompressed content of a columns frame (FORMAT.md, "Columns frame"), written by `ColumnBuilder`.
    func encode() -> [UInt8] {
        var builder = ColumnBuilder(segment: segment)
        for row in 0..<count { builder.append(row: row, of: self) }
        return builder.encode()
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, segment: UInt32) throws -> ColumnBlock {
        var r = WireReader(bytes)
        let version = try r.u8()
        guard version == encodingVersion else {
            throw SegmentError(.unsupportedVersion, "columns encoding version \(version), this build reads 1")
        }
        let rows64 = try r.varint()
        guard rows64 <= UInt64(bytes.count) * 8 + 8 else {
            throw SegmentError(.corrupt, "columns frame declares \(rows64) rows in \(bytes.count) bytes")
        }
        let rows = Int(rows64)
        var block = ColumnBlock(segment: segment)
        // Defaults for columns an older writer did not write.
        block.ids = []
        block.offsets = Array(repeating: 0, count: rows)
        block.lengths = Array(repeating: 0, count: rows)
        block.createdAt = Array(repeating: 0, count: rows)
        block.account = StringColumn(dictionary: [""], codes: Array(repeating: 0, count: rows))
        block.gateway = block.account
        block.provider = block.account
        block.model = StringColumn(dictionary: [], codes: Array(repeating: StringColumn.nullCode, count: rows))
        block.statusCode = Array(repeating: 0, count: rows)
        block.success = Array(repeating: false, count: rows)
        block.stream = Array(repeating: false, count: rows)
        let nulls = [Int64?](repeating: nil, count: rows)
        (block.tokensIn, block.tokensOut, block.cachedTokensIn) = (nulls, nulls, nulls)
        (block.cacheWriteTokens, block.cacheWrite1hTokens, block.reasoningTokens) = (nulls, nulls, nulls)
        block.ttftMicros = nulls
        block.durationMicros = Array(repeating: 0, count: rows)
        block.requestSize = Array(repeating: 0, count: rows)
        block.responseSize = Array(repeating: 0, count: rows)
        var sawIDs = false

        while !r.isAtEnd {
            let tag = try r.varint()
            let length = try r.length()
            var c = WireReader(r.buffer, from: r.position, to: r.position + length)
            r.position += length
            switch tag {
            case Tag.id:
                guard length == rows * 16 else { throw SegmentError(.corrupt, "id column has \(length) bytes") }
                block.ids.reserveCapacity(rows)
                for _ in 0..<rows { block.ids.append(LogID(high: try c.bigEndianU64(), low: try c.bigEndianU64())) }
                sawIDs = true
            case Tag.offset:
                var previous: UInt64 = 0
                for i in 0..<rows {
                    previous = previous &+ (try c.varint())
                    block.offsets[i] = previous
                }
            case Tag.length:
                for i in 0..<rows {
                    guard let l = UInt32(exactly: try c.varint()) else { throw SegmentError(.corrupt, "frame length") }
                    block.lengths[i] = l
                }
            case Tag.createdAt:
                var previous: Int64 = 0
                for i in 0..<rows {
                    previous = previous &+ (try c.zigzag())
                    block.createdAt[i] = previous
                }
            case Tag.account: block.account = try decodeStrings(&c, rows: rows)
            case Tag.gateway: block.gateway = try decodeStrings(&c, rows: rows)
            case Tag.provider: block.provider = try decodeStrings(&c, rows: rows)
            case Tag.model: block.model = try decodeStrings(&c, rows: rows)
            case Tag.statusCode:
                for i in 0..<rows { block.statusCode[i] = UInt16(clamping: try c.varint()) }
            case Tag.success: block.success = try decodeBitmap(&c, rows: rows)
            case Tag.stream: block.stream = try decodeBitmap(&c, rows: rows)
            case Tag.tokensIn: block.tokensIn = try decodeNullable(&c, rows: rows)
            case Tag.tokensOut: block.tokensOut = try decodeNullable(&c, rows: rows)
            case Tag.cachedTokensIn: block.cachedTokensIn = try decodeNullable(&c, rows: rows)
            case Tag.cacheWriteTokens: block.cacheWriteTokens = try decodeNullable(&c, rows: rows)
            case Tag.cacheWrite1hTokens: block.cacheWrite1hTokens = try decodeNullable(&c, rows: rows)
            case Tag.reasoningTokens: block.reasoningTokens = try decodeNullable(&c, rows: rows)
            case Tag.durationMicros: for i in 0..<rows { block.durationMicros[i] = try c.zigzag() }
            case Tag.ttftMicros: block.ttftMicros = try decodeNullable(&c, rows: rows)
            case Tag.requestSize: for i in 0..<rows { block.requestSize[i] = try c.zigzag() }
            case Tag.responseSize: for i in 0..<rows { block.responseSize[i] = try c.zigzag() }
            default: break  // a column added by a later version
            }
        }
        guard sawIDs else { throw SegmentError(.corrupt, "columns frame has no id column") }
        return block
    }

    private static func decodeStrings(_ r: inout WireReader, rows: Int) throws -> StringColumn {
        let n = try r.length()  // each string takes at least one byte, so n is bounded by the bytes left
        var dictionary: [String] = []
        dictionary.reserveCapacity(n)
        for _ in 0..<n { dictionary.append(try r.string(r.length())) }
        var codes: [UInt32] = []
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

    private static func decodeNullable(_ r: inout WireReader, rows: Int) throws -> [Int64?] {
        let present = try decodeBitmap(&r, rows: rows)
        var values = [Int64?](repeating: nil, count: rows)
        for i in 0..<rows where present[i] { values[i] = try r.zigzag() }
        return values
    }
}
