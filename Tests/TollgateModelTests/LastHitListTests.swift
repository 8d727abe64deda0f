import Testing
import TollgateModel

@Suite struct LastHitListTests {
    /// Keys in runs of random length, coming back after others: every value is what a dictionary adding the same
    /// amounts holds, and the keys are in the order they first came.
    @Test func runsOfKeysAddUpAsInADictionary() {
        var rng = SplitMix64(seed: 7)
        var list = LastHitList<String, Int>()
        var expected: [String: Int] = [:]
        var firstSeen: [String] = []
        for _ in 0..<2_000 {
            let key = "key-\(Int.random(in: 0..<12, using: &rng))"
            for _ in 0..<Int.random(in: 1...5, using: &rng) {
                let amount = Int.random(in: 1...100, using: &rng)
                list.withValue(key, empty: 0) { $0 += amount }
                if expected[key] == nil { firstSeen.append(key) }
                expected[key, default: 0] += amount
            }
        }
        #expect(list.keys == firstSeen)
        #expect(Dictionary(uniqueKeysWithValues: zip(list.keys, list.values)) == expected)
    }

    @Test func aNewKeyStartsFromItsEmptyValue() {
        var list = LastHitList<Int, [Int]>()
        #expect(list.isEmpty)
        list.withValue(1, empty: [10]) { $0.append(1) }
        list.withValue(2, empty: []) { $0.append(2) }
        list.withValue(1, empty: [99]) { $0.append(3) }
        #expect(list.keys == [1, 2])
        #expect(list.values == [[10, 1, 3], [2]])
    }

    /// Keys dropped by `updateAll` are gone; those kept are found again at their new places.
    @Test func updateAllDropsKeysAndTheRestAreFoundAgain() {
        var list = LastHitList<String, Int>()
        for (key, amount) in [("a", 1), ("b", 2), ("c", 3), ("d", 4)] { list.withValue(key, empty: 0) { $0 += amount } }
        list.updateAll { value in
            value *= 10
            return value != 20
        }
        #expect(list.keys == ["a", "c", "d"])
        #expect(list.values == [10, 30, 40])
        list.withValue("d", empty: 0) { $0 += 1 }
        list.withValue("b", empty: 100) { $0 += 1 }
        #expect(list.keys == ["a", "c", "d", "b"])
        #expect(list.values == [10, 30, 41, 101])
    }
}
