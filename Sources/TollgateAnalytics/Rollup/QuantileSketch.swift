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
/// requests is a handful of entries, and `remove` is exact: it decrements the bucket a value was counted in.
/// Encoded as varints (entry count, zero count, then index deltas and counts), see LAYOUT.md.
public struct QuantileSketch: Sendable, Hashable {
    /// The relative accuracy α of every quantile: 0.5 %.
    public static let relativeAccuracy = 0.005
    static let gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy)
    static let inverseLogGamma = 1 / log(gamma)
    /// Values above 2^50 (35 years in µs) are counted as 2^50: it bounds the index range to 0…3,500.
    static let maxValue: Int64 = 1 << 50

    /// Count of values ≤ 0.
    public private(set) var zeroCount: Int64 = 0
    /// Bucket indices, ascending, each with a non-zero count in `counts`.
    private(set) var indices: [Int32] = []
    private(set) var counts: [Int64] = []

    public init() {}

    /// The number of values counted.
    public var count: Int64 { counts.reduce(zeroCount, +) }

    public var isEmpty: Bool { zeroCount == 0 && indices.isEmpty }

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
            }
        } else if count != 0 {
            indices.insert(index, at: low)
            counts.insert(count, at: low)
        }
    }

    /// Adds every count of `other`.
    public mutating func merge(_ other: QuantileSketch) {
        zeroCount += other.zeroCount
        for i in other.indices.indices { add(index: other.indices[i], count: other.counts[i]) }
    }

    /// Adds `other` with its counts negated: undoes a `merge(other)`.
    mutating func subtract(_ other: QuantileSketch) {
        zeroCount -= other.zeroCount
        for i in other.indices.indices { add(index: other.indices[i], count: -other.counts[i]) }
    }

    /// The estimate of the value at rank `⌈q·n⌉`, within `relativeAccuracy` of it; nil when empty.
    public func quantile(_ q: Double) -> Double? {
        var accumulator = SketchAccumulator()
        accumulator.add(self)
        return accumulator.quantile(q)
    }

    // MARK: Encoding

    /// Entry count, zero count, then per bucket: index (the first absolute, then the delta to the previous one) and
    /// count. Counts are zigzag varints: a delta written by `replace` may be negative.
    func encode(into writer: inout ByteWriter) {
        writer.unsigned(UInt64(indices.count))
        writer.signed(zeroCount)
        var previous: Int32 = 0
        for i in indices.indices {
            writer.signed(Int64(indices[i] - previous))
            previous = indices[i]
            writer.signed(counts[i])
        }
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
        let entries = Int(try reader.unsigned())
        guard entries <= reader.bytes.count else { throw .corruptChunk("sketch entry count") }
        zeroCount = try reader.signed()
        indices.reserveCapacity(entries)
        counts.reserveCapacity(entries)
        var index: Int64 = 0
        for _ in 0..<entries {
            index += try reader.signed()
            indices.append(Int32(truncatingIfNeeded: index))
            counts.append(try reader.signed())
        }
    }

    /// Skips one encoded sketch.
    static func skip(_ reader: inout ByteReader) throws(RollupError) {
        let entries = try reader.unsigned()
        _ = try reader.unsigned()
        for _ in 0..<(entries * 2) { _ = try reader.unsigned() }
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

/// A dense window of bucket counts for merging many sketches at query time: adding an encoded sketch is a decode
/// and an array add per entry, with no search.
struct SketchAccumulator {
    private(set) var zeroCount: Int64 = 0
    private var base: Int32 = 0
    private var counts: [Int64] = []

    var isEmpty: Bool { zeroCount == 0 && counts.isEmpty }

    @inline(__always)
    private mutating func ensure(_ index: Int32) {
        if counts.isEmpty {
            base = index
            counts = [Int64](repeating: 0, count: 64)
            return
        }
        if index < base {
            let grow = Int(base - index) + 32
            counts.insert(contentsOf: repeatElement(0, count: grow), at: 0)
            base -= Int32(grow)
        } else if Int(index - base) >= counts.count {
            let needed = Int(index - base) + 1
            counts.append(contentsOf: repeatElement(0, count: Swift.max(needed - counts.count, counts.count / 2)))
        }
    }

    @inline(__always)
    mutating func add(index: Int32, count: Int64) {
        ensure(index)
        counts[Int(index - base)] += count
    }

    mutating func add(_ sketch: QuantileSketch) {
        zeroCount += sketch.zeroCount
        for i in sketch.indices.indices { add(index: sketch.indices[i], count: sketch.counts[i]) }
    }

    mutating func add(_ other: SketchAccumulator) {
        zeroCount += other.zeroCount
        for i in other.counts.indices where other.counts[i] != 0 {
            add(index: other.base + Int32(i), count: other.counts[i])
        }
    }

    /// Adds one encoded sketch read from `reader`.
    mutating func add(from reader: inout ByteReader) throws(RollupError) {
        let entries = try reader.unsigned()
        zeroCount += try reader.signed()
        var index: Int64 = 0
        for _ in 0..<entries {
            index += try reader.signed()
            add(index: Int32(truncatingIfNeeded: index), count: try reader.signed())
        }
    }

    var count: Int64 { counts.reduce(zeroCount, +) }

    func quantile(_ q: Double) -> Double? {
        quantiles([q]).map { $0[0] }
    }

    /// The estimates for ascending `qs` in one pass; nil when empty.
    func quantiles(_ qs: [Double]) -> [Double]? {
        let n = count
        guard n > 0 else { return nil }
        var results: [Double] = []
        results.reserveCapacity(qs.count)
        var q = 0
        var cumulative = zeroCount
        while q < qs.count, cumulative >= QuantileSketch.rank(of: qs[q], count: n) {
            results.append(0)
            q += 1
        }
        for i in counts.indices where q < qs.count {
            cumulative += counts[i]
            while q < qs.count, cumulative >= QuantileSketch.rank(of: qs[q], count: n) {
                results.append(QuantileSketch.representative(ofIndex: base + Int32(i)))
                q += 1
            }
        }
        while results.count < qs.count { results.append(results.last ?? 0) }
        return results
    }

    var percentiles: Percentiles? {
        guard let values = quantiles([0.5, 0.9, 0.95, 0.99]) else { return nil }
        return Percentiles(p50: values[0], p90: values[1], p95: values[2], p99: values[3], count: count)
    }
}
