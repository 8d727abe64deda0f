/// The columns of a chunk, each stored as its own blob (`rollup_chunks.measure`).
///
/// `bucket` and `series` locate every cell; the others hold one value per cell in the same order. Errors, cached and
/// unpriced requests have no column: they are the requests of series whose key says so.
enum RollupColumn: String, CaseIterable, Sendable {
    case bucket
    case series
    case requests
    case tokensIn = "tokens_in"
    case tokensOut = "tokens_out"
    case cachedTokensIn = "cached_tokens_in"
    case cacheWriteTokens = "cache_write_tokens"
    case reasoningTokens = "reasoning_tokens"
    case cost
    /// Picodollars the cached requests saved (what they would have cost), Int128 like `cost`.
    case saved
    case latency
    case ttft

    /// The Int64 columns besides bucket and series, in cell-field order.
    static let tokenColumns: [RollupColumn] = [
        .tokensIn, .tokensOut, .cachedTokensIn, .cacheWriteTokens, .reasoningTokens,
    ]
}

/// The measures of one series in one bucket. Values are signed: a delta written by `replace` may subtract.
struct RollupCell: Sendable {
    var requests: Int64 = 0
    /// tokens_in, tokens_out, cached_tokens_in, cache_write_tokens, reasoning_tokens.
    var tokens: (Int64, Int64, Int64, Int64, Int64) = (0, 0, 0, 0, 0)
    var cost: Int128 = 0
    var saved: Int128 = 0
    var latency = QuantileSketch()
    var ttft = QuantileSketch()

    func token(_ i: Int) -> Int64 {
        switch i {
        case 0: tokens.0
        case 1: tokens.1
        case 2: tokens.2
        case 3: tokens.3
        default: tokens.4
        }
    }

    mutating func setToken(_ i: Int, _ value: Int64) {
        switch i {
        case 0: tokens.0 = value
        case 1: tokens.1 = value
        case 2: tokens.2 = value
        case 3: tokens.3 = value
        default: tokens.4 = value
        }
    }

    @inline(__always)
    mutating func add(_ input: RollupInput, latencyIndex: Int32?, ttftIndex: Int32?, sign: Int64) {
        requests += sign
        tokens.0 += sign * (input.tokensIn ?? 0)
        tokens.1 += sign * (input.tokensOut ?? 0)
        tokens.2 += sign * (input.cachedTokensIn ?? 0)
        tokens.3 += sign * (input.cacheWriteTokens ?? 0)
        tokens.4 += sign * (input.reasoningTokens ?? 0)
        cost += Int128(sign) * Int128(input.cost ?? 0)
        saved += Int128(sign) * Int128(input.saved ?? 0)
        if let latencyIndex { latency.add(index: latencyIndex, count: sign) } else { latency.add(0, count: sign) }
        if let ttft = input.ttftMicros {
            if let ttftIndex { self.ttft.add(index: ttftIndex, count: sign) } else { self.ttft.add(ttft, count: sign) }
        }
    }

    mutating func merge(_ other: RollupCell) {
        requests += other.requests
        for i in 0..<5 { setToken(i, token(i) + other.token(i)) }
        cost += other.cost
        saved += other.saved
        latency.merge(other.latency)
        ttft.merge(other.ttft)
    }

    var isZero: Bool {
        requests == 0 && tokens == (0, 0, 0, 0, 0) && cost == 0 && saved == 0 && latency.isEmpty && ttft.isEmpty
    }
}

/// A cell's place in its chunk: the bucket number within the chunk and the series id, packed so the natural sort
/// order is (bucket, series).
struct CellKey: Hashable, Comparable, Sendable {
    var packed: UInt64

    init(offset: Int, series: Int64) {
        packed = UInt64(offset) << 40 | UInt64(series)
    }

    init(packed: UInt64) {
        self.packed = packed
    }

    var offset: Int { Int(packed >> 40) }
    var series: Int64 { Int64(packed & 0xFF_FFFF_FFFF) }

    static func < (a: CellKey, b: CellKey) -> Bool { a.packed < b.packed }
}

/// Encoding and decoding of a chunk part's columns (format in LAYOUT.md).
enum ChunkCodec {
    /// The blobs of `cells` by column; columns whose every value is zero (or empty sketches) are left out, readers
    /// take a missing column as all zeros. `bucket` and `series` are always present.
    static func encode(_ cells: [(key: CellKey, cell: RollupCell)]) -> [(RollupColumn, [UInt8])] {
        encode(keys: cells.map(\.key.packed), values: cells.map(\.cell), order: Array(cells.indices))
    }

    /// The blobs of the cells `order` names in `values` (keyed by `keys`, as `CellKey.packed`), in that order: a
    /// pending chunk's cells encoded where they lie, with no sorted copy of them made and destroyed.
    static func encode(keys: [UInt64], values: [RollupCell], order: [Int]) -> [(RollupColumn, [UInt8])] {
        values.withUnsafeBufferPointer { values in encode(keys: keys, values: values, order: order) }
    }

    private static func encode(keys: [UInt64], values: UnsafeBufferPointer<RollupCell>, order: [Int])
        -> [(RollupColumn, [UInt8])]
    {
        let n = UInt64(order.count)
        var result: [(RollupColumn, [UInt8])] = []
        /// Calls `body` with each cell in order, where it lies: a copy of a cell retains and releases its sketches'
        /// arrays.
        func eachCell(_ body: (CellKey, UnsafePointer<RollupCell>) -> Void) {
            guard let first = values.baseAddress else { return }
            for i in order { body(CellKey(packed: keys[i]), first + i) }
        }
        func column(_ name: RollupColumn, always: Bool = false, _ write: (inout ByteWriter) -> Bool) {
            var writer = ByteWriter(capacity: order.count * 2 + 4)
            writer.unsigned(n)
            let nonZero = write(&writer)
            if always || nonZero { result.append((name, writer.bytes)) }
        }
        column(.bucket, always: true) { w in
            eachCell { key, _ in w.unsigned(UInt64(key.offset)) }
            return true
        }
        column(.series, always: true) { w in
            eachCell { key, _ in w.unsigned(UInt64(key.series)) }
            return true
        }
        column(.requests) { w in
            var any = false
            eachCell { _, c in
                w.signed(c.pointee.requests)
                any = any || c.pointee.requests != 0
            }
            return any
        }
        for (i, name) in RollupColumn.tokenColumns.enumerated() {
            column(name) { w in
                var any = false
                eachCell { _, c in
                    let v = c.pointee.token(i)
                    w.signed(v)
                    any = any || v != 0
                }
                return any
            }
        }
        column(.cost) { w in
            var any = false
            eachCell { _, c in
                w.signed128(c.pointee.cost)
                any = any || c.pointee.cost != 0
            }
            return any
        }
        column(.saved) { w in
            var any = false
            eachCell { _, c in
                w.signed128(c.pointee.saved)
                any = any || c.pointee.saved != 0
            }
            return any
        }
        column(.latency) { w in
            var any = false
            eachCell { _, c in
                let sketch = Self.sketch(c, at: Self.latencyOffset)
                QuantileSketch.encode(sketch, into: &w)
                any = any || !QuantileSketch.isEmpty(sketch)
            }
            return any
        }
        column(.ttft) { w in
            var any = false
            eachCell { _, c in
                let sketch = Self.sketch(c, at: Self.ttftOffset)
                QuantileSketch.encode(sketch, into: &w)
                any = any || !QuantileSketch.isEmpty(sketch)
            }
            return any
        }
        return result
    }

    private static let latencyOffset = MemoryLayout<RollupCell>.offset(of: \RollupCell.latency)!
    private static let ttftOffset = MemoryLayout<RollupCell>.offset(of: \RollupCell.ttft)!

    /// The sketch at `offset` in the cell `cell` points to, where it lies: `cell.pointee.latency.encode(into:)`
    /// copied the whole cell first.
    private static func sketch(_ cell: UnsafePointer<RollupCell>, at offset: Int) -> UnsafePointer<QuantileSketch> {
        (UnsafeRawPointer(cell) + offset).assumingMemoryBound(to: QuantileSketch.self)
    }

    /// Reads the cell count header of a column and checks it.
    static func header(_ reader: inout ByteReader, expected: Int?) throws(RollupError) -> Int {
        let n = Int(try reader.unsigned())
        if let expected, n != expected { throw .corruptChunk("column has \(n) cells, expected \(expected)") }
        return n
    }

    /// A column of integers.
    static func integers(_ blob: [UInt8], count: Int, signed: Bool) throws(RollupError) -> [Int64] {
        var reader = ByteReader(blob)
        _ = try header(&reader, expected: count)
        var values: [Int64] = []
        values.reserveCapacity(count)
        for _ in 0..<count { values.append(signed ? try reader.signed() : Int64(bitPattern: try reader.unsigned())) }
        return values
    }

    /// Every cell of a part, with all its measures (for compaction).
    static func decodeCells(_ columns: [RollupColumn: [UInt8]]) throws(RollupError) -> [(CellKey, RollupCell)] {
        guard let bucketBlob = columns[.bucket], let seriesBlob = columns[.series] else {
            throw .corruptChunk("part without bucket or series column")
        }
        var reader = ByteReader(bucketBlob)
        let n = try header(&reader, expected: nil)
        let offsets = try integers(bucketBlob, count: n, signed: false)
        let series = try integers(seriesBlob, count: n, signed: false)
        var cells = [RollupCell](repeating: RollupCell(), count: n)
        if let blob = columns[.requests] {
            for (i, v) in try integers(blob, count: n, signed: true).enumerated() { cells[i].requests = v }
        }
        for (t, name) in RollupColumn.tokenColumns.enumerated() {
            guard let blob = columns[name] else { continue }
            for (i, v) in try integers(blob, count: n, signed: true).enumerated() { cells[i].setToken(t, v) }
        }
        if let blob = columns[.cost] {
            var r = ByteReader(blob)
            _ = try header(&r, expected: n)
            for i in 0..<n { cells[i].cost = try r.signed128() }
        }
        if let blob = columns[.saved] {
            var r = ByteReader(blob)
            _ = try header(&r, expected: n)
            for i in 0..<n { cells[i].saved = try r.signed128() }
        }
        if let blob = columns[.latency] {
            var r = ByteReader(blob)
            _ = try header(&r, expected: n)
            for i in 0..<n { cells[i].latency = try QuantileSketch(from: &r) }
        }
        if let blob = columns[.ttft] {
            var r = ByteReader(blob)
            _ = try header(&r, expected: n)
            for i in 0..<n { cells[i].ttft = try QuantileSketch(from: &r) }
        }
        return (0..<n).map { (CellKey(offset: Int(offsets[$0]), series: series[$0]), cells[$0]) }
    }
}
