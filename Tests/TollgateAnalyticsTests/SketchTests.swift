import Foundation
import Testing
import TollgateModel

@testable import TollgateAnalytics

extension SplitMix64 {
    /// exp(N(mu, sigma)), by Box–Muller.
    mutating func logNormal(mu: Double, sigma: Double) -> Double {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let u2 = Double.random(in: 0..<1, using: &self)
        return exp(mu + sigma * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2))
    }
}

/// The exact value at rank ⌈q·n⌉ (1-based) of `values`: the definition the sketch's error is stated against.
func exactQuantile(_ sorted: [Int64], _ q: Double) -> Int64 {
    sorted[Int(QuantileSketch.rank(of: q, count: Int64(sorted.count))) - 1]
}

/// True when `estimate` is within the sketch's relative accuracy of `exact` (a hair over, for float rounding).
func withinAccuracy(_ estimate: Double, _ exact: Int64) -> Bool {
    if exact <= 0 { return estimate == 0 }
    return abs(estimate - Double(exact)) <= QuantileSketch.relativeAccuracy * Double(exact) * (1 + 1e-9)
}

@Suite struct SketchTests {
    static let quantiles = [0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0]

    static func datasets() -> [(String, [Int64])] {
        var rng = SplitMix64(seed: 7)
        let uniform = (0..<20_000).map { _ in Int64.random(in: 1...5_000_000, using: &rng) }
        let heavy = (0..<20_000).map { _ in Int64(rng.logNormal(mu: 12, sigma: 1.5).rounded(.up)) }
        let constant = [Int64](repeating: 123_456, count: 5_000)
        let single: [Int64] = [987]
        let twoPoint = (0..<10_001).map { i in i % 10 == 0 ? Int64(2_000_000) : Int64(50) }
        let small = (0..<3_000).map { _ in Int64.random(in: 0...20, using: &rng) }  // zeros and tiny values
        return [
            ("uniform", uniform), ("lognormal", heavy), ("constant", constant), ("single", single),
            ("two-point", twoPoint), ("small", small),
        ]
    }

    func check(_ name: String, _ sketch: QuantileSketch, _ values: [Int64]) {
        let sorted = values.sorted()
        #expect(sketch.count == Int64(values.count), "\(name)")
        for q in Self.quantiles {
            let exact = exactQuantile(sorted, q)
            let estimate = sketch.quantile(q)!
            #expect(withinAccuracy(estimate, exact), "\(name) q=\(q): estimate \(estimate), exact \(exact)")
        }
    }

    @Test func quantilesAreWithinTheRelativeAccuracy() {
        for (name, values) in Self.datasets() {
            var sketch = QuantileSketch()
            for v in values { sketch.add(v) }
            check(name, sketch, values)
        }
    }

    @Test func mergingManySmallSketchesKeepsTheAccuracy() {
        var rng = SplitMix64(seed: 11)
        for (name, values) in Self.datasets() {
            var merged = QuantileSketch()
            var index = 0
            while index < values.count {
                let size = Int.random(in: 1...8, using: &rng)  // a minute of one series holds a few requests
                var part = QuantileSketch()
                for v in values[index..<min(index + size, values.count)] { part.add(v) }
                merged.merge(try! QuantileSketch(decoding: part.encoded))
                index += size
            }
            check(name + " merged", merged, values)
        }
    }

    @Test func removeIsExact() {
        var rng = SplitMix64(seed: 3)
        let values = (0..<2_000).map { _ in Int64(rng.logNormal(mu: 9, sigma: 1).rounded()) }
        var all = QuantileSketch()
        for v in values { all.add(v) }
        var kept = QuantileSketch()
        for (i, v) in values.enumerated() {
            if i % 3 == 0 { all.remove(v) } else { kept.add(v) }
        }
        #expect(all == kept)
        check("after remove", all, values.enumerated().filter { $0.offset % 3 != 0 }.map(\.element))
    }

    /// A sketch holds its one bucket inline and two or more in arrays, moving between the two as buckets come and
    /// go. Random adds, removals (counts may go negative, as a replace's deltas do), merges and subtractions, checked
    /// after each step against a plain table of counts: the buckets, the count, equality with (and the hash of) the
    /// sketch built from the table in one go, and the encoding's round trip.
    @Test func oneBucketOrManyTheSketchIsItsCounts() throws {
        var rng = SplitMix64(seed: 11)
        for _ in 0..<200 {
            var sketch = QuantileSketch()
            var table: [Int32: Int64] = [:]
            var zeros: Int64 = 0
            for _ in 0..<40 {
                let index = Int32.random(in: 1...4, using: &rng)
                let count = Int64.random(in: -2...2, using: &rng)
                switch Int.random(in: 0..<4, using: &rng) {
                case 0, 1:
                    sketch.add(index: index, count: count)
                    table[index, default: 0] += count
                case 2:
                    var other = QuantileSketch()
                    other.add(index: index, count: count)
                    other.add(0, count: 1)
                    sketch.merge(other)
                    table[index, default: 0] += count
                    zeros += 1
                default:
                    var other = QuantileSketch()
                    other.add(index: index, count: count)
                    sketch.subtract(other)
                    table[index, default: 0] -= count
                }
                let expected = table.filter { $0.value != 0 }.sorted { $0.key < $1.key }
                var buckets: [(Int32, Int64)] = []
                sketch.forEachBucket { buckets.append(($0, $1)) }
                #expect(buckets.map(\.0) == expected.map(\.key) && buckets.map(\.1) == expected.map(\.value))
                #expect(sketch.bucketCount == expected.count)
                #expect(sketch.count == zeros + expected.reduce(0) { $0 + $1.value })
                var rebuilt = QuantileSketch()
                rebuilt.add(0, count: zeros)
                for (index, count) in expected { rebuilt.add(index: index, count: count) }
                #expect(sketch == rebuilt && sketch.hashValue == rebuilt.hashValue)
                #expect(try QuantileSketch(decoding: sketch.encoded) == sketch)
            }
        }
    }

    @Test func encodingIsCompactAndRoundTrips() throws {
        var sketch = QuantileSketch()
        for v: Int64 in [1200, 1250, 1300, 90_000, 0] { sketch.add(v) }
        let bytes = sketch.encoded
        #expect(try QuantileSketch(decoding: bytes) == sketch)
        // 4 buckets: count + zero count + 4 × (index delta, count) in a handful of bytes.
        #expect(bytes.count <= 14)
        #expect(QuantileSketch().encoded == [0, 0])
    }

    @Test func bigSketchesUseTheDenseFormAndDecodeTheSame() throws {
        var rng = SplitMix64(seed: 13)
        let values = (0..<50_000).map { _ in Int64(rng.logNormal(mu: 12, sigma: 0.3).rounded()) }
        var sketch = QuantileSketch()
        for v in values { sketch.add(v) }
        sketch.add(0)
        let bytes = sketch.encoded
        #expect(bytes[0] & 1 == 1)  // dense form
        #expect(try QuantileSketch(decoding: bytes) == sketch)
        // Into a query accumulator, sparse then dense, and mixed with sparse-form sketches.
        var small = QuantileSketch()
        for v: Int64 in [5, 70_000, 1_000_000_000] { small.add(v) }
        var accumulator = SketchAccumulator()
        var reader = ByteReader(small.encoded + bytes + small.encoded)
        for _ in 0..<3 { try accumulator.add(from: &reader) }
        #expect(reader.isAtEnd)
        var expected = sketch
        expected.merge(small)
        expected.merge(small)
        #expect(accumulator.count == expected.count)
        for q in Self.quantiles { #expect(accumulator.quantile(q) == expected.quantile(q)) }
        check("dense", try QuantileSketch(decoding: bytes), values + [0])
    }

    @Test func emptySketchHasNoQuantile() {
        #expect(QuantileSketch().quantile(0.5) == nil)
    }

    /// Skipping a run of encoded sketches (sparse, dense, empty, with zeros) lands exactly where decoding them one by
    /// one does, and a truncated run throws.
    @Test func skippingARunOfSketchesLandsWhereDecodingDoes() throws {
        var rng = SplitMix64(seed: 5)
        var sketches: [QuantileSketch] = []
        for k in 0..<200 {
            var sketch = QuantileSketch()
            let n = [0, 1, 3, 40, 2_000][k % 5]
            for _ in 0..<n { sketch.add(Int64(rng.logNormal(mu: 12, sigma: 1.5).rounded())) }
            if k % 7 == 0 { sketch.add(0) }
            sketches.append(sketch)
        }
        let bytes = sketches.flatMap(\.encoded)
        for skipped in [0, 1, 2, 5, 17, 199] {
            var reader = ByteReader(bytes)
            try QuantileSketch.skip(&reader, count: skipped)
            #expect(try QuantileSketch(from: &reader) == sketches[skipped])
        }
        var reader = ByteReader(bytes)
        try QuantileSketch.skip(&reader, count: 200)
        #expect(reader.isAtEnd)
        var truncated = ByteReader(Array(bytes.dropLast()))
        #expect(throws: RollupError.self) { try QuantileSketch.skip(&truncated, count: 200) }
    }
}
