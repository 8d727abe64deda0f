import Foundation

/// A mergeable quantile sketch of non-negative integer values (latencies in µs), log-bucketed in the DDSketch style.
///
/// A value `v ≥ 1` is counted in bucket `i = ⌈log_γ v⌉` with `γ = (1 + α) / (1 − α)`, so bucket `i` holds the values
/// in `(γ^(i−1), γ^i]`; values `≤ 0` are counted apart as zeros. A quantile is answered with the bucket's midpoint
/// in relative terms, `2γ^i / (γ + 1)`, which is within a relative error `α` of every value in the bucket. Because
/// buckets are ordered like the values they hold, the bucket holding the rank-`r` value answers the rank-`r` query,
/// so `quantile(q)` is within `α` of the exact value at rank `⌈q·n⌉` (see `rank(of:count:)`) — for any data, and
/// after any number of merges, since merging adds bucket counts and loses nothing.
///
/// Only non-empty buckets are kept (sorted index and count arrays), so a sketch of a minute with a handful of
/// requests is a handful of entries, and `remove` is exact: it decrements the bucket a value was counted in. A sketch
/// of one bucket (a minute of one series with one request: most of the cells a fold makes) keeps it inline instead,
/// with no array to allocate and free.
/// Encoded as varints (entry count, zero count, then index deltas and counts), see LAYOUT.md.
public struct QuantileSketch: Sendable, Hashable {
    /// The relative accuracy α of every quantile: 0.95 % (within the 1 % asked of latency percentiles, with room for
    /// float rounding at bucket boundaries). Halving it would double the buckets of every sketch, and with them
    /// what a query decodes and merges.
    public static let relativeAccuracy = 0.0095
    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    static let inverseLogGamma = 1 / log(gamma)
    /// Values above 2^50 (35 years in µs) are counted as 2^50: it bounds the index range to 0…1,830.
    static let maxValue: Int64 = 1 << 50
    /// The room the arrays get when a sketch takes its second bucket.
    static let firstArrayCapacity = 8

    /// Count of values ≤ 0.
    public private(set) var zeroCount: Int64 = 0
    /// Bucket indices, ascending, each with a non-zero count in `counts`, when there are two or more buckets.
    private(set) var indices: [Int32] = []
    private(set) var counts: [Int64] = []
    /// The bucket of a sketch with exactly one (`singleCount` not zero; the arrays are empty then). One form for
    /// each content, so that equal sketches compare and hash equal: a second bucket moves both into the arrays, and
    /// the arrays' last but one bucket gone moves the last one back here.
    private var singleIndex: Int32 = 0
    private var singleCount: Int64 = 0

    public init() {}

    /// The number of values counted.
    public var count: Int64 { counts.reduce(zeroCount + singleCount, +) }

    public var isEmpty: Bool { withUnsafePointer(to: self) { Self.isEmpty($0) } }

    /// The number of non-empty buckets.
    var bucketCount: Int { singleCount != 0 ? 1 : indices.count }

    /// Calls `body` with each non-empty bucket's index and count, in index order.
    @inline(__always)
    func forEachBucket(_ body: (Int32, Int64) throws -> Void) rethrows {
        if singleCount != 0 { return try body(singleIndex, singleCount) }
        for i in indices.indices { try body(indices[i], counts[i]) }
    }

    /// The bucket of a value ≥ 1.
    @inline(__always)
    static func index(of value: Int64) -> Int32 {
        let v = Swift.min(value, maxValue)
        return Int32((log(Double(v)) * inverseLogGamma).rounded(.up))
    }

    /// The value a bucket answers for.
    static func representative(ofIndex index: Int32) -> Double {
        2 * pow(gamma, Double(index)) / (gamma + 1)
    }

    /// The 1-based rank whose exact value a `q` quantile estimates: `⌈q·n⌉`, at least 1 (the "nearest rank"
    /// definition; q = 0.5 of 4 values is the 2nd smallest).
    public static func rank(of q: Double, count n: Int64) -> Int64 {
        Swift.max(1, Swift.min(n, Int64((q * Double(n) - 1e-9).rounded(.up))))
    }

    /// Counts `value` (`count` times; a negative count removes it).
    public mutating func add(_ value: Int64, count: Int64 = 1) {
        if value <= 0 {
            zeroCount += count
        } else {
            add(index: Self.index(of: value), count: count)
        }
    }

    /// Removes one occurrence of `value` counted before: exact, the bucket's count goes down by one.
    public mutating func remove(_ value: Int64) {
        add(value, count: -1)
    }

    mutating func add(index: Int32, count: Int64) {
        guard count != 0 else { return }
        if indices.isEmpty {
            if singleCount == 0 {
                (singleIndex, singleCount) = (index, count)
            } else if singleIndex == index {
                singleCount += count
                if singleCount == 0 { singleIndex = 0 }
            } else {
                // A second bucket: both go into the arrays, in order, with room for a few more (a sketch that
                // gets a second bucket usually gets more: grown from two, its arrays were reallocated and copied
                // about once a record in a fold).
                indices.reserveCapacity(Self.firstArrayCapacity)
                counts.reserveCapacity(Self.firstArrayCapacity)
                if singleIndex < index {
                    indices.append(singleIndex)
                    counts.append(singleCount)
                }
                indices.append(index)
                counts.append(count)
                if singleIndex > index {
                    indices.append(singleIndex)
                    counts.append(singleCount)
                }
                (singleIndex, singleCount) = (0, 0)
            }
            return
        }
        // Binary search; the arrays are short (tens of entries for a minute of one series).
        var low = 0
        var high = indices.count
        while low < high {
            let mid = (low + high) >> 1
            if indices[mid] < index { low = mid + 1 } else { high = mid }
        }
        if low < indices.count, indices[low] == index {
            counts[low] += count
            if counts[low] == 0 {
                indices.remove(at: low)
                counts.remove(at: low)
                keepALoneBucketInline()
            }
        } else {
            // At the end (every bucket of a new sketch, and of a sketch counting ever longer values) an append;
            // elsewhere the later ones shifted by one in place: `insert(_:at:)` goes through the generic
            // replacement of a range, about 180 instructions for each of the two arrays.
            if low == indices.count {
                indices.append(index)
                counts.append(count)
            } else {
                indices.insertShifting(index, at: low)
                counts.insertShifting(count, at: low)
            }
        }
    }

    /// Adds every count of `other`.
    public mutating func merge(_ other: QuantileSketch) {
        zeroCount += other.zeroCount
        other.forEachBucket { add(index: $0, count: $1) }
    }

    /// Adds `other` with its counts negated: undoes a `merge(other)`.
    mutating func subtract(_ other: QuantileSketch) {
        zeroCount -= other.zeroCount
        other.forEachBucket { add(index: $0, count: -$1) }
    }

    /// The estimate of the value at rank `⌈q·n⌉`, within `relativeAccuracy` of it; nil when empty.
    public func quantile(_ q: Double) -> Double? {
        var accumulator = SketchAccumulator()
        accumulator.add(self)
        return accumulator.quantile(q)
    }

    // MARK: Encoding

    /// Two forms, told apart by the low bit of the first varint:
    /// - sparse (`entries << 1`): zero count, then per bucket the index (the first absolute, then the delta to the
    ///   previous one) and the count;
    /// - dense (`span << 1 | 1`), when at least a third of the buckets between the first and the last are non-empty
    ///   (big sketches of busy cells): zero count, first index, then `span` counts, zeros included. One varint per bucket
    ///   instead of two, and merged into a query's dense window with a plain add loop.
    /// Counts are zigzag varints: a delta written by `replace` may be negative.
    func encode(into writer: inout ByteWriter) {
        withUnsafePointer(to: self) { Self.encode($0, into: &writer) }
    }

    /// `encode(into:)` of the sketch `sketch` points to, read where it lies: a method called on a sketch read
    /// through a pointer to the cell that holds it copies the whole cell first (four arrays retained, then released).
    static func encode(_ sketch: UnsafePointer<QuantileSketch>, into writer: inout ByteWriter) {
        let zeroCount = sketch.pointee.zeroCount
        let singleCount = sketch.pointee.singleCount
        if singleCount != 0 {
            writer.unsigned(1 << 1)
            writer.signed(zeroCount)
            writer.signed(Int64(sketch.pointee.singleIndex))
            writer.signed(singleCount)
            return
        }
        // The arrays read in place: copies of them were a retain and a release each.
        sketch.pointee.indices.withUnsafeBufferPointer { indices in
            sketch.pointee.counts.withUnsafeBufferPointer { counts in
                let n = indices.count
                if n >= 8, let first = indices.first, let last = indices.last, Int(last - first) + 1 <= 3 * n {
                    let span = Int(last - first) + 1
                    writer.unsigned(UInt64(span) << 1 | 1)
                    writer.signed(zeroCount)
                    writer.signed(Int64(first))
                    var j = 0
                    for k in 0..<span {
                        if indices[j] == first + Int32(k) {
                            writer.signed(counts[j])
                            j += 1
                        } else {
                            writer.unsigned(0)
                        }
                    }
                    return
                }
                writer.unsigned(UInt64(n) << 1)
                writer.signed(zeroCount)
                var previous: Int32 = 0
                for i in indices.indices {
                    writer.signed(Int64(indices[i] - previous))
                    previous = indices[i]
                    writer.signed(counts[i])
                }
            }
        }
    }

    /// `isEmpty` of the sketch `sketch` points to, read where it lies (as `encode(_:into:)`).
    static func isEmpty(_ sketch: UnsafePointer<QuantileSketch>) -> Bool {
        sketch.pointee.zeroCount == 0 && sketch.pointee.indices.isEmpty && sketch.pointee.singleCount == 0
    }

    /// The compact encoding alone.
    public var encoded: [UInt8] {
        var writer = ByteWriter()
        encode(into: &writer)
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(RollupError) {
        var reader = ByteReader(bytes)
        try self.init(from: &reader)
    }

    init(from reader: inout ByteReader) throws(RollupError) {
        let header = try reader.unsigned()
        let length = Int(header >> 1)
        guard length <= reader.bytes.count else { throw .corruptChunk("sketch length") }
        zeroCount = try reader.signed()
        if header & 1 == 1 {
            var index = try reader.signed()
            for _ in 0..<length {
                let count = try reader.signed()
                if count != 0 {
                    indices.append(Int32(truncatingIfNeeded: index))
                    counts.append(count)
                }
                index += 1
            }
        } else if length == 1 {
            singleIndex = Int32(truncatingIfNeeded: try reader.signed())
            singleCount = try reader.signed()
            if singleCount == 0 { singleIndex = 0 }
            return
        } else {
            indices.reserveCapacity(length)
            counts.reserveCapacity(length)
            var index: Int64 = 0
            for _ in 0..<length {
                index += try reader.signed()
                indices.append(Int32(truncatingIfNeeded: index))
                counts.append(try reader.signed())
            }
        }
        keepALoneBucketInline()
    }

    /// Moves the arrays' bucket inline when it is their only one (the one form of a one-bucket sketch).
    private mutating func keepALoneBucketInline() {
        guard indices.count == 1 else { return }
        (singleIndex, singleCount) = (indices[0], counts[0])
        indices = []
        counts = []
    }

    /// Skips one encoded sketch.
    static func skip(_ reader: inout ByteReader) throws(RollupError) {
        try skip(&reader, count: 1)
    }

    /// Skips `count` encoded sketches: only their headers are decoded, the varints of their entries are counted.
    static func skip(_ reader: inout ByteReader, count: Int) throws(RollupError) {
        for _ in 0..<count {
            let header = try reader.unsigned()
            // The zero count, then the first index and `length` counts (dense) or `length` index–count pairs.
            let length = Int(truncatingIfNeeded: header >> 1)
            guard length >= 0, length <= reader.bytes.count else { throw .corruptChunk("sketch length") }
            let varints = header & 1 == 1 ? length + 2 : 2 * length + 1
            try reader.skipVarints(varints)
        }
    }
}

/// Four quantiles of a sketch, each within `QuantileSketch.relativeAccuracy` of the exact value at rank `⌈q·n⌉`.
public struct Percentiles: Sendable, Hashable {
    public var p50: Double
    public var p90: Double
    public var p95: Double
    public var p99: Double
    /// The number of values they summarize.
    public var count: Int64
}

/// Bucket counts for merging many sketches at query time. It starts sparse (sorted index and count arrays, like
/// `QuantileSketch`: a row made of a few small minute sketches stays a few entries) and turns into a dense window
/// of counts once it holds more than `sparseLimit` buckets, where adding an entry is an array add with no search.
struct SketchAccumulator {
    static let sparseLimit = 96
    /// Buckets per block of `blocks`: a p50 walk over a 300-bucket window steps over ~10 blocks and ≤ 16 buckets.
    static let blockShift = 4
    static let blockSize = 1 << blockShift

    private(set) var zeroCount: Int64 = 0
    /// Every count added, zeros included.
    private(set) var count: Int64 = 0
    // Sparse form, while `dense` is empty.
    private var indices: [Int32] = []
    private var sparseCounts: [Int64] = []
    // Dense form: counts of indices base, base + 1, …
    private var base: Int32 = 0
    private var dense: [Int64] = []
    /// Sums of `dense` by `blockSize` positions, so quantile walks skip whole blocks.
    private var blocks: [Int64] = []
    /// The lowest and highest dense positions ever added to; quantile walks and merges stay within them.
    private var low = Int.max
    private var high = -1
    /// `blocks` no longer holds the sums of `dense` (whole windows were added without them, see `add(_:)`): quantile
    /// walks step bucket by bucket.
    private var blocksStale = false
    /// Dense from the first bucket added: for sums of many small sketches (a row of minute and hour entries), where
    /// a sorted insert per bucket would cost more than the window.
    private var alwaysDense = false

    init() {}

    /// An accumulator that is dense from the start (`alwaysDense`).
    init(dense: Bool) {
        alwaysDense = dense
    }

    var isEmpty: Bool { zeroCount == 0 && indices.isEmpty && high < 0 }

    /// Roughly the memory held.
    var byteSize: Int { 64 + 8 * (dense.count + blocks.count + sparseCounts.count) + 4 * indices.count }

    /// The same counts in the least memory: a dense window cut down to the buckets ever added to. For keeping.
    func compacted() -> SketchAccumulator {
        guard isDense, high >= 0 else { return self }
        var copy = SketchAccumulator()
        copy.zeroCount = zeroCount
        copy.count = count
        copy.base = base + Int32(low)
        copy.dense = Array(dense[low...high])
        var blocks = [Int64](repeating: 0, count: (copy.dense.count + Self.blockSize - 1) >> Self.blockShift)
        for i in copy.dense.indices { blocks[i >> Self.blockShift] &+= copy.dense[i] }
        copy.blocks = blocks
        copy.low = 0
        copy.high = high - low
        return copy
    }

    private var isDense: Bool { !dense.isEmpty }

    /// Makes the dense window cover `first...last`, with room to spare.
    private mutating func reserve(_ first: Int32, _ last: Int32) {
        if dense.isEmpty {
            // Room for the neighbours: merged sketches of one series spread around the first one. A sum of many
            // small sketches (`alwaysDense`) gets room for a spread of latencies from the start, rather than growing
            // (and moving) its window with every sketch that reaches a little further.
            let margin = alwaysDense ? Swift.max(Int32(last - first) / 8 + 16, 160) : Int32(last - first) / 8 + 16
            base = first - margin
            dense = [Int64](repeating: 0, count: Int(last - first) + 2 * Int(margin) + 1)
            blocks = [Int64](repeating: 0, count: (dense.count + Self.blockSize - 1) >> Self.blockShift)
            return
        }
        var grown = false
        if first < base {
            let grow = Int(base - first) + 64
            dense.insert(contentsOf: repeatElement(0, count: grow), at: 0)
            base -= Int32(grow)
            if high >= 0 {
                low += grow
                high += grow
            }
            grown = true
        }
        if Int(last - base) >= dense.count {
            let needed = Int(last - base) + 1 - dense.count
            dense.append(contentsOf: repeatElement(0, count: Swift.max(needed + 64, dense.count / 2)))
            grown = true
        }
        if grown {
            blocks = [Int64](repeating: 0, count: (dense.count + Self.blockSize - 1) >> Self.blockShift)
            if high >= 0 { for i in low...high { blocks[i >> Self.blockShift] &+= dense[i] } }
            blocksStale = false
        }
    }

    @inline(__always)
    private mutating func addDense(index: Int32, count: Int64) {
        self.count &+= count
        if index < base || Int(index - base) >= dense.count { reserve(index, index) }
        let position = Int(index - base)
        dense[position] &+= count
        blocks[position >> Self.blockShift] &+= count
        if position < low { low = position }
        if position > high { high = position }
    }

    private mutating func densify() {
        guard !indices.isEmpty else { return }
        reserve(indices.first!, indices.last!)
        let total = count
        for i in indices.indices { addDense(index: indices[i], count: sparseCounts[i]) }
        count = total
        indices = []
        sparseCounts = []
    }

    @inline(__always)
    mutating func add(index: Int32, count: Int64) {
        if isDense || alwaysDense {
            addDense(index: index, count: count)
            return
        }
        self.count &+= count
        if let last = indices.last, last < index {
            indices.append(index)
            sparseCounts.append(count)
        } else {
            var lower = 0
            var upper = indices.count
            while lower < upper {
                let mid = (lower + upper) >> 1
                if indices[mid] < index { lower = mid + 1 } else { upper = mid }
            }
            if lower < indices.count, indices[lower] == index {
                sparseCounts[lower] &+= count
                return
            }
            indices.insert(index, at: lower)
            sparseCounts.insert(count, at: lower)
        }
        if indices.count > Self.sparseLimit {
            reserve(indices.first!, indices.last!)
            densify()
        }
    }

    mutating func add(_ sketch: QuantileSketch) {
        zeroCount += sketch.zeroCount
        count += sketch.zeroCount
        sketch.forEachBucket { add(index: $0, count: $1) }
    }

    mutating func add(_ other: SketchAccumulator) {
        add(other, negated: false)
    }

    /// Takes away the counts of `other`, added before as part of the sum: exact, counts are integers. (A group's
    /// total over most of a chunk is the chunk's group total less the few buckets outside the window.)
    mutating func subtract(_ other: SketchAccumulator) {
        add(other, negated: true)
    }

    private mutating func add(_ other: SketchAccumulator, negated: Bool) {
        let sign: Int64 = negated ? -1 : 1
        zeroCount += sign * other.zeroCount
        count += sign * other.zeroCount
        if !other.isDense {
            guard let first = other.indices.first, let last = other.indices.last else { return }
            if alwaysDense || negated || isDense {
                if !isDense || first < base || Int(last - base) >= dense.count { reserve(first, last) }
                densify()
                // One pass over the window's memory (block sums left stale, as for a dense add).
                let base = self.base
                var sum: Int64 = 0
                dense.withUnsafeMutableBufferPointer { window in
                    other.indices.withUnsafeBufferPointer { indices in
                        other.sparseCounts.withUnsafeBufferPointer { counts in
                            for i in 0..<indices.count {
                                let value = sign * counts[i]
                                window[Int(indices[i] - base)] &+= value
                                sum &+= value
                            }
                        }
                    }
                }
                blocksStale = true
                count &+= sum
                low = Swift.min(low, Int(first - base))
                high = Swift.max(high, Int(last - base))
            } else {
                for i in other.indices.indices { add(index: other.indices[i], count: other.sparseCounts[i]) }
            }
            return
        }
        guard other.high >= 0 else { return }
        reserve(other.base + Int32(other.low), other.base + Int32(other.high))
        densify()
        let shift = Int(other.base - base)
        // A plain add loop over the window (the block sums are left stale: a sum of many windows walks each
        // quantile once, bucket by bucket, which costs less than keeping them on every add).
        dense.withUnsafeMutableBufferPointer { target in
            other.dense.withUnsafeBufferPointer { source in
                let to = target.baseAddress! + shift
                let from = source.baseAddress!
                if negated {
                    for i in other.low...other.high { to[i] &-= from[i] }
                } else {
                    for i in other.low...other.high { to[i] &+= from[i] }
                }
            }
        }
        blocksStale = true
        low = Swift.min(low, shift + other.low)
        high = Swift.max(high, shift + other.high)
        count += sign * (other.count - other.zeroCount)
    }

    /// Adds one encoded sketch read from `reader`.
    mutating func add(from reader: inout ByteReader) throws(RollupError) {
        let header = try reader.unsigned()
        let length = Int(header >> 1)
        let zeros = try reader.signed()
        zeroCount += zeros
        count += zeros
        guard length > 0 else { return }
        var index = try reader.signed()
        if header & 1 == 1 {
            // Dense form: `length` counts from bucket `index` on.
            let first = Int32(truncatingIfNeeded: index)
            let last = first + Int32(length) - 1
            if !isDense && indices.count + length <= Self.sparseLimit {
                for k in 0..<Int32(length) {
                    let count = try reader.signed()
                    if count != 0 { add(index: first + k, count: count) }
                }
                return
            }
            reserve(first, last)
            densify()
            let start = Int(first - base)
            let sum = dense.withUnsafeMutableBufferPointer { window in
                blocks.withUnsafeMutableBufferPointer { blockSums in
                    reader.addSignedRun(
                        into: window.baseAddress!, blocks: blockSums.baseAddress!, start: start, count: length)
                }
            }
            guard let sum else { throw .corruptChunk("truncated sketch") }
            count &+= sum
            low = Swift.min(low, start)
            high = Swift.max(high, start + length - 1)
            return
        }
        if isDense || indices.count + length > Self.sparseLimit {
            // Large: straight into the dense window.
            let first = Int32(truncatingIfNeeded: index)
            if !isDense {
                reserve(first, first + Int32(length))
                densify()
            }
            addDense(index: first, count: try reader.signed())
            for _ in 1..<length {
                index += try reader.signed()
                addDense(index: Int32(truncatingIfNeeded: index), count: try reader.signed())
            }
        } else {
            add(index: Int32(truncatingIfNeeded: index), count: try reader.signed())
            for _ in 1..<length {
                index += try reader.signed()
                add(index: Int32(truncatingIfNeeded: index), count: try reader.signed())
            }
        }
    }

    func quantile(_ q: Double) -> Double? {
        quantiles([q]).map { $0[0] }
    }

    /// The estimates for ascending `qs`; nil when empty. Ranks in the lower half are found walking up from the
    /// lowest bucket, the others walking down from the highest (p99 of a big window touches only its top), skipping
    /// whole blocks of 16 buckets whose sum does not reach the rank.
    func quantiles(_ qs: [Double]) -> [Double]? {
        guard count > 0 else { return nil }
        guard isDense, blocksStale, high - low >= 4 * Self.blockSize else {
            return blocksStale || !isDense
                ? quantiles(qs, blockSums: nil)
                : blocks.withUnsafeBufferPointer {
                    quantiles(qs, blockSums: $0)
                }
        }
        // A sum of whole windows (block sums left stale): the block sums of its span made once, one pass over the
        // window, for both walks, instead of walking it bucket by bucket.
        return withUnsafeTemporaryAllocation(of: Int64.self, capacity: blocks.count) { fresh in
            dense.withUnsafeBufferPointer { window in
                for block in (low >> Self.blockShift)...(high >> Self.blockShift) {
                    var sum: Int64 = 0
                    for i in Swift.max(
                        block << Self.blockShift, low)...Swift.min(
                            (block << Self.blockShift) + Self.blockSize - 1, high)
                    {
                        sum &+= window[i]
                    }
                    fresh[block] = sum
                }
            }
            return quantiles(qs, blockSums: UnsafeBufferPointer(fresh))
        }
    }

    /// `quantiles(_:)` with the block sums to skip by (nil: bucket by bucket).
    private func quantiles(_ qs: [Double], blockSums: UnsafeBufferPointer<Int64>?) -> [Double]? {
        let n = count
        guard n > 0 else { return nil }
        var results = [Double](repeating: 0, count: qs.count)
        let half = (n + 1) / 2
        // Scratch on the stack: a query computes thousands of these.
        withUnsafeTemporaryAllocation(of: Int64.self, capacity: qs.count) { targets in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: qs.count) { found in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: qs.count) { order in
                    // Lower half: ranks ascending, walking up from the zero count.
                    var m = 0
                    for q in qs.indices {
                        let rank = QuantileSketch.rank(of: qs[q], count: n)
                        if rank <= half {
                            targets[m] = rank
                            order[m] = q
                            m += 1
                        }
                    }
                    if m > 0 {
                        walk(
                            ascending: true, start: zeroCount, targets: targets, count: m, found: found,
                            blockSums: blockSums)
                        for k in 0..<m {
                            results[order[k]] =
                                found[k] == Int32.min ? 0 : QuantileSketch.representative(ofIndex: found[k])
                        }
                    }
                    // Upper half: positions from the top (the rank-r value is the (n − r + 1)-th from the top),
                    // ascending, walking down; not reached from the top means the zero bucket.
                    m = 0
                    for q in qs.indices.reversed() {
                        let rank = QuantileSketch.rank(of: qs[q], count: n)
                        if rank > half {
                            targets[m] = n - rank + 1
                            order[m] = q
                            m += 1
                        }
                    }
                    if m > 0 {
                        walk(
                            ascending: false, start: 0, targets: targets, count: m, found: found,
                            blockSums: blockSums)
                        for k in 0..<m {
                            results[order[k]] =
                                found[k] == Int32.min ? 0 : QuantileSketch.representative(ofIndex: found[k])
                        }
                    }
                }
            }
        }
        return results
    }

    /// Writes to `found[k]` the bucket index where the running sum (from `start`, walking up or down) first reaches
    /// `targets[k]` (ascending), or `Int32.min` when it never does (or does before any bucket).
    private func walk(
        ascending: Bool, start: Int64, targets: UnsafeMutableBufferPointer<Int64>, count: Int,
        found: UnsafeMutableBufferPointer<Int32>, blockSums: UnsafeBufferPointer<Int64>?
    ) {
        for k in 0..<count { found[k] = Int32.min }
        var t = 0
        var cumulative = start
        while t < count, cumulative >= targets[t] { t += 1 }
        if !isDense {
            var k = 0
            while t < count, k < indices.count {
                let i = ascending ? k : indices.count - 1 - k
                cumulative += sparseCounts[i]
                while t < count, cumulative >= targets[t] {
                    found[t] = indices[i]
                    t += 1
                }
                k += 1
            }
            return
        }
        guard high >= 0 else { return }
        let (low, high, base) = (self.low, self.high, self.base)
        guard let blockSums else {
            dense.withUnsafeBufferPointer { window in
                var i = ascending ? low : high
                while t < count, i >= low, i <= high {
                    cumulative += window[i]
                    while t < count, cumulative >= targets[t] {
                        found[t] = base + Int32(i)
                        t += 1
                    }
                    i += ascending ? 1 : -1
                }
            }
            return
        }
        dense.withUnsafeBufferPointer { window in
            do {
                var block = ascending ? low >> Self.blockShift : high >> Self.blockShift
                while t < count, block >= low >> Self.blockShift, block <= high >> Self.blockShift {
                    if cumulative + blockSums[block] < targets[t] {
                        cumulative += blockSums[block]
                    } else {
                        let first = Swift.max(block << Self.blockShift, low)
                        let last = Swift.min((block << Self.blockShift) + Self.blockSize - 1, high)
                        var i = ascending ? first : last
                        while t < count, i >= first, i <= last {
                            cumulative += window[i]
                            while t < count, cumulative >= targets[t] {
                                found[t] = base + Int32(i)
                                t += 1
                            }
                            i += ascending ? 1 : -1
                        }
                    }
                    block += ascending ? 1 : -1
                }
            }
        }
    }

    var percentiles: Percentiles? {
        guard let values = quantiles([0.5, 0.9, 0.95, 0.99]) else { return nil }
        return Percentiles(p50: values[0], p90: values[1], p95: values[2], p99: values[3], count: count)
    }
}

extension Array where Element: FixedWidthInteger {
    /// Inserts `value` at `position` (before the end) by appending and shifting the elements after it by one.
    @inline(__always)
    fileprivate mutating func insertShifting(_ value: Element, at position: Int) {
        precondition(position >= 0 && position < count)
        append(value)
        withUnsafeMutableBufferPointer { elements in
            var i = elements.count &- 1
            while i > position {
                elements[i] = elements[i &- 1]
                i &-= 1
            }
            elements[position] = value
        }
    }
}
