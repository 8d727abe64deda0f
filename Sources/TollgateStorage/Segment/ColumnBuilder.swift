import TollgateModel

/// The columns of the segment being written, kept as they will be stored: each column's encoded bytes grow as rows
/// are appended (FORMAT.md, "Columns frame"). Decoded `ColumnBlock` rows were the largest part of the gateway's heap
/// (41 of 77 MB after 146,000 requests, by heaptrack); encoded, with the ids, offsets and lengths that stay as
/// arrays for the index frame to sort at sealing, they took 25 MB after about 300,000.
///
/// `encode()` is the columns frame's content; `ColumnBlock.encode()` goes through a builder too, so there is one
/// encoder.
struct ColumnBuilder: Sendable {
    let segment: UInt32
    private(set) var ids: [LogID] = []
    private(set) var offsets: [UInt64] = []
    private(set) var lengths: [UInt32] = []
    private var createdAt = WireWriter(capacity: 0)
    private var previousCreatedAt: Int64 = 0
    private var account = StringCodes()
    private var gateway = StringCodes()
    private var provider = StringCodes()
    private var model = StringCodes()
    private var statusCode = WireWriter(capacity: 0)
    private var success = Bitmap()
    private var stream = Bitmap()
    private var tokensIn = Nullable()
    private var tokensOut = Nullable()
    private var cachedTokensIn = Nullable()
    private var cacheWriteTokens = Nullable()
    private var cacheWrite1hTokens = Nullable()
    private var reasoningTokens = Nullable()
    private var durationMicros = WireWriter(capacity: 0)
    private var ttftMicros = Nullable()
    private var requestSize = WireWriter(capacity: 0)
    private var responseSize = WireWriter(capacity: 0)

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
        let u = record.usage
        append(
            id: record.id, offset: location.offset, length: location.length, createdAt: record.createdAt,
            account: record.account, gateway: record.gateway, provider: record.provider, model: record.model,
            statusCode: UInt16(clamping: record.statusCode), success: record.success, stream: record.stream,
            tokens: (u.tokensIn, u.tokensOut, u.cachedTokensIn, u.cacheWriteTokens, u.cacheWrite1hTokens),
            reasoningTokens: u.reasoningTokens, durationMicros: record.durationMicros, ttftMicros: record.ttftMicros,
            requestSize: record.requestSize, responseSize: record.responseSize)
    }

    /// Adds row `row` of a decoded block.
    mutating func append(row i: Int, of b: ColumnBlock) {
        append(
            id: b.ids[i], offset: b.offsets[i], length: b.lengths[i], createdAt: b.createdAt[i],
            account: b.account[i] ?? "", gateway: b.gateway[i] ?? "", provider: b.provider[i] ?? "", model: b.model[i],
            statusCode: b.statusCode[i], success: b.success[i], stream: b.stream[i],
            tokens: (
                b.tokensIn[i], b.tokensOut[i], b.cachedTokensIn[i], b.cacheWriteTokens[i], b.cacheWrite1hTokens[i]
            ),
            reasoningTokens: b.reasoningTokens[i], durationMicros: b.durationMicros[i], ttftMicros: b.ttftMicros[i],
            requestSize: b.requestSize[i], responseSize: b.responseSize[i])
    }

    // swift-format-ignore: the fields of one row
    private mutating func append(
        id: LogID, offset: UInt64, length: UInt32, createdAt at: Int64, account a: String, gateway g: String,
        provider p: String, model m: String?, statusCode s: UInt16, success ok: Bool, stream st: Bool,
        tokens t: (Int64?, Int64?, Int64?, Int64?, Int64?), reasoningTokens r: Int64?, durationMicros d: Int64,
        ttftMicros ttft: Int64?, requestSize rq: Int64, responseSize rs: Int64
    ) {
        ids.append(id)
        offsets.append(offset)
        lengths.append(length)
        createdAt.zigzag(at &- previousCreatedAt)
        previousCreatedAt = at
        account.append(a)
        gateway.append(g)
        provider.append(p)
        model.append(m)
        statusCode.varint(UInt64(s))
        success.append(ok)
        stream.append(st)
        tokensIn.append(t.0)
        tokensOut.append(t.1)
        cachedTokensIn.append(t.2)
        cacheWriteTokens.append(t.3)
        cacheWrite1hTokens.append(t.4)
        reasoningTokens.append(r)
        durationMicros.zigzag(d)
        ttftMicros.append(ttft)
        requestSize.zigzag(rq)
        responseSize.zigzag(rs)
    }

    /// The smallest and largest id, nil when empty.
    var idRange: (min: LogID, max: LogID)? { ids.range }

    /// The uncompressed content of a columns frame (FORMAT.md, "Columns frame").
    func encode() -> [UInt8] {
        typealias Tag = ColumnBlock.Tag
        var out = WireWriter(capacity: 256 + count * 40)
        out.u8(ColumnBlock.encodingVersion)
        out.varint(UInt64(count))
        func column(_ tag: UInt64, _ bytes: [UInt8]) {
            out.varint(tag)
            out.lengthPrefixed(bytes)
        }
        var w = WireWriter(capacity: count * 16)
        for id in ids { w.id(LogIDBytes(high: id.high, low: id.low)) }
        column(Tag.id, w.bytes)
        w = WireWriter(capacity: count * 2)
        var previous: UInt64 = 0
        for o in offsets {
            w.varint(o &- previous)
            previous = o
        }
        column(Tag.offset, w.bytes)
        w = WireWriter(capacity: count * 2)
        for l in lengths { w.varint(UInt64(l)) }
        column(Tag.length, w.bytes)
        column(Tag.createdAt, createdAt.bytes)
        column(Tag.account, account.encoded)
        column(Tag.gateway, gateway.encoded)
        column(Tag.provider, provider.encoded)
        column(Tag.model, model.encoded)
        column(Tag.statusCode, statusCode.bytes)
        column(Tag.success, success.bytes)
        column(Tag.stream, stream.bytes)
        column(Tag.tokensIn, tokensIn.encoded)
        column(Tag.tokensOut, tokensOut.encoded)
        column(Tag.cachedTokensIn, cachedTokensIn.encoded)
        column(Tag.cacheWriteTokens, cacheWriteTokens.encoded)
        column(Tag.cacheWrite1hTokens, cacheWrite1hTokens.encoded)
        column(Tag.reasoningTokens, reasoningTokens.encoded)
        column(Tag.durationMicros, durationMicros.bytes)
        column(Tag.ttftMicros, ttftMicros.encoded)
        column(Tag.requestSize, requestSize.bytes)
        column(Tag.responseSize, responseSize.bytes)
        return out.bytes
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

        mutating func append(_ value: String?) {
            guard let value else { return codes.varint(0) }
            if let code = lookup[value] { return codes.varint(code) }
            dictionary.append(value)
            let code = UInt64(dictionary.count)
            lookup[value] = code
            codes.varint(code)
        }

        var encoded: [UInt8] {
            var w = WireWriter(capacity: codes.bytes.count + dictionary.count * 16 + 8)
            w.varint(UInt64(dictionary.count))
            for value in dictionary { w.lengthPrefixed(value) }
            w.raw(codes.bytes)
            return w.bytes
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
    }

    /// A nullable integer column: a presence bitmap, then the present values (zigzag varints).
    struct Nullable: Sendable {
        private var present = Bitmap()
        private var values = WireWriter(capacity: 0)

        mutating func append(_ value: Int64?) {
            present.append(value != nil)
            if let value { values.zigzag(value) }
        }

        var encoded: [UInt8] { present.bytes + values.bytes }
    }
}
