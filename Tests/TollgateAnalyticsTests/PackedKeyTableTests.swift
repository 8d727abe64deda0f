import Testing
import TollgateModel

@testable import TollgateAnalytics

@Suite("The rollup fold's table of values by 64-bit key")
struct PackedKeyTableTests {
    /// Random additions to random keys — few distinct ones, runs of one key, keys that share their high bits as cell
    /// keys do, and enough of them to grow the table several times — give the same sums as a dictionary, with the
    /// keys in the order they first came.
    @Test func addsUpAsADictionaryAndKeepsFirstSeenOrder() {
        var rng = SplitMix64(seed: 11)
        for distinct in [1, 3, 17, 300, 5_000] {
            var table = PackedKeyTable<Int64>()
            var expected: [UInt64: Int64] = [:]
            var order: [UInt64] = []
            let pool = (0..<distinct).map { UInt64($0 % 64) << 40 | UInt64($0) &* 0x1_0001 }
            var key = pool[0]
            for _ in 0..<20_000 {
                // Half the time the same key again, as consecutive records of one series.
                if Bool.random(using: &rng) { key = pool[Int.random(in: 0..<distinct, using: &rng)] }
                let amount = Int64.random(in: -5...9, using: &rng)
                table.withValue(key, empty: 0) { $0 += amount }
                if expected[key] == nil { order.append(key) }
                expected[key, default: 0] += amount
            }
            #expect(table.count == expected.count)
            #expect(table.keys == order)
            for (position, key) in table.keys.enumerated() {
                #expect(table.values[position] == expected[key])
                #expect(table.value(of: key) == expected[key])
            }
            #expect(table.value(of: UInt64.max) == nil)
        }
    }

    @Test func anEmptyTableHasNoValues() {
        let table = PackedKeyTable<Int>()
        #expect(table.isEmpty)
        #expect(table.value(of: 0) == nil)
    }
}
