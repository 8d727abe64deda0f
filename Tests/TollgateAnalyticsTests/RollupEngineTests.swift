import Foundation
import Synchronization
import Testing
import TollgateModel
import TollgateStorage

@testable import TollgateAnalytics

/// A catalog in a fresh temporary folder, removed with the value.
final class TemporaryCatalog {
    let directory: String
    let catalog: Catalog

    init() throws {
        directory = NSTemporaryDirectory() + "tollgate-rollup-\(UUID().uuidString)"
        catalog = try Catalog(dataDirectory: directory)
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }
}

/// Usage computed from the raw inputs, the slow obvious way: Foundation's calendar for the buckets, sorting for
/// the percentiles.
enum BruteForce {
    struct Sums {
        var values = UsageValues()
        var durations: [Int64] = []
        var ttfts: [Int64] = []
    }

    static func bucketStart(_ t: Int64, _ interval: UsageInterval, _ zone: TimeZone) -> Int64 {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let component: Calendar.Component =
            switch interval {
            case .minute: .minute
            case .hour: .hour
            case .day: .day
            case .month: .month
            }
        let start = calendar.dateInterval(of: component, for: Date(timeIntervalSince1970: Double(t) / 1000))!.start
        return Int64((start.timeIntervalSince1970 * 1000).rounded())
    }

    static func usage(_ inputs: [RollupInput], _ query: UsageQuery) -> [UsageGroupKey: Sums] {
        var result: [UsageGroupKey: Sums] = [:]
        for input in inputs
        where input.account == query.account && input.createdAt >= query.from
            && input.createdAt < query.to
        {
            let key = UsageGroupKey(
                bucket: bucketStart(input.createdAt, query.interval, query.timeZone),
                group: UsageGroup(input.seriesKey, fields: query.groupBy))
            var sums = result[key, default: Sums()]
            sums.values.requests += 1
            if !input.success { sums.values.errors += 1 }
            if input.cached { sums.values.cached += 1 }
            if input.cost == nil { sums.values.unpriced += 1 }
            sums.values.tokensIn += input.tokensIn ?? 0
            sums.values.tokensOut += input.tokensOut ?? 0
            sums.values.cachedTokensIn += input.cachedTokensIn ?? 0
            sums.values.cacheWriteTokens += input.cacheWriteTokens ?? 0
            sums.values.reasoningTokens += input.reasoningTokens ?? 0
            sums.values.cost += Money(picodollars: Int128(input.cost ?? 0))
            sums.values.saved += Money(picodollars: Int128(input.saved ?? 0))
            if input.refusal == .rateLimited { sums.values.rateLimited += 1 }
            if input.refusal == .spendLimitExceeded { sums.values.spendLimited += 1 }
            sums.durations.append(input.durationMicros)
            if let ttft = input.ttftMicros { sums.ttfts.append(ttft) }
            result[key] = sums
        }
        return result
    }
}

struct UsageGroupKey: Hashable {
    var bucket: Int64
    var group: UsageGroup
}

/// Random requests over `days` days from `start`, with every optional field sometimes missing; some answered from
/// the gateway's cache (cost 0, with what they saved), some refused by it (cost 0).
func randomInputs(count: Int, start: Int64, days: Int, seed: UInt64, account: String = "acme") -> [RollupInput] {
    var rng = SplitMix64(seed: seed)
    let models: [String?] = ["gpt-5", "gpt-5-mini", "claude-x", nil]
    return (0..<count).map { _ in
        let priced = Int.random(in: 0..<5, using: &rng) != 0
        var input = RollupInput(
            account: account,
            gateway: ["prod", "staging"].randomElement(using: &rng)!,
            provider: ["openai", "anthropic"].randomElement(using: &rng)!,
            model: models.randomElement(using: &rng)!,
            success: Int.random(in: 0..<10, using: &rng) != 0,
            cached: Int.random(in: 0..<20, using: &rng) == 0,
            createdAt: start + Int64.random(in: 0..<(Int64(days) * 86_400_000), using: &rng),
            tokensIn: Bool.random(using: &rng) ? Int64.random(in: 0...50_000, using: &rng) : nil,
            tokensOut: Int64.random(in: 0...4_000, using: &rng),
            cachedTokensIn: Bool.random(using: &rng) ? Int64.random(in: 0...10_000, using: &rng) : nil,
            cacheWriteTokens: Int.random(in: 0..<4, using: &rng) == 0 ? Int64.random(in: 0...5_000, using: &rng) : nil,
            reasoningTokens: Bool.random(using: &rng) ? Int64.random(in: 0...2_000, using: &rng) : nil,
            cost: priced ? Int64.random(in: 0...90_000_000_000_000, using: &rng) : nil,
            durationMicros: Int64(rng.logNormal(mu: 13, sigma: 1.2).rounded()),
            ttftMicros: Int.random(in: 0..<3, using: &rng) == 0 ? nil : Int64(rng.logNormal(mu: 12, sigma: 1).rounded())
        )
        if input.cached {
            input.saved = input.cost
            input.cost = 0
        } else if Int.random(in: 0..<25, using: &rng) == 0 {
            input.refusal = Bool.random(using: &rng) ? .rateLimited : .spendLimitExceeded
            input.success = false
            input.cost = 0
        }
        return input
    }
}

func checkPercentiles(_ p: Percentiles?, _ raw: [Int64], _ label: String) {
    guard !raw.isEmpty else {
        #expect(p == nil, "\(label): percentiles of nothing")
        return
    }
    guard let p else {
        Issue.record("\(label): no percentiles")
        return
    }
    let sorted = raw.sorted()
    #expect(p.count == Int64(raw.count), "\(label)")
    // Exactly what one sketch of the raw values answers: however the query added up its cells, the bucket counts
    // are the same.
    var sketch = QuantileSketch()
    for value in raw { sketch.add(value) }
    #expect(
        [p.p50, p.p90, p.p95, p.p99] == [0.5, 0.9, 0.95, 0.99].map { sketch.quantile($0)! },
        "\(label): percentiles of one sketch of the values")
    for (q, estimate) in [(0.5, p.p50), (0.9, p.p90), (0.95, p.p95), (0.99, p.p99)] {
        let exact = exactQuantile(sorted, q)
        #expect(withinAccuracy(estimate, exact), "\(label) q=\(q): \(estimate) vs exact \(exact)")
    }
}

/// Checks a usage result against the brute force over `inputs`: exact counts, tokens and cost; percentiles within
/// the sketch's accuracy; rows adding up to the totals.
func checkAgainstBruteForce(_ engine: RollupEngine, _ inputs: [RollupInput], _ query: UsageQuery) throws {
    let result = try engine.usage(query)
    let expected = BruteForce.usage(inputs, query)
    let label = "\(query.interval) in \(query.timeZone.identifier) by \(query.groupBy.map(\.rawValue).sorted())"
    #expect(!expected.isEmpty, "\(label): the range holds inputs")
    #expect(result.rows.count == expected.count, "\(label): row count")
    var rowSum = UsageValues()
    for row in result.rows {
        let key = UsageGroupKey(bucket: row.bucketStart, group: row.group)
        guard let sums = expected[key] else {
            Issue.record("\(label): unexpected row \(row.bucketStart) \(row.group)")
            continue
        }
        var values = row.values
        checkPercentiles(values.latency, sums.durations, "\(label) latency \(row.bucketStart)")
        checkPercentiles(values.ttft, sums.ttfts, "\(label) ttft \(row.bucketStart)")
        values.latency = nil
        values.ttft = nil
        #expect(values == sums.values, "\(label): row \(row.bucketStart) \(row.group)")
        rowSum.requests += values.requests
        rowSum.errors += values.errors
        rowSum.tokensIn += values.tokensIn
        rowSum.cost += values.cost
        rowSum.saved += values.saved
        rowSum.cached += values.cached
        rowSum.rateLimited += values.rateLimited
        rowSum.spendLimited += values.spendLimited
    }
    let all = expected.values.flatMap(\.durations)
    checkPercentiles(result.totals.latency, all, "\(label) total latency")
    #expect(result.totals.requests == rowSum.requests)
    #expect(result.totals.errors == rowSum.errors)
    #expect(result.totals.tokensIn == rowSum.tokensIn)
    #expect(result.totals.cost == rowSum.cost)
    #expect(result.totals.saved == rowSum.saved && result.totals.cached == rowSum.cached)
    #expect(result.totals.rateLimited == rowSum.rateLimited && result.totals.spendLimited == rowSum.spendLimited)
    #expect(result.totals.requests == Int64(all.count))
    #expect(result.groupTotals.reduce(Money.zero) { $0 + $1.values.cost } == result.totals.cost)
}

@Suite struct RollupEngineTests {
    // 2026-10-25T00:00:00Z: the range crosses the end of US daylight time (2026-11-01) and a month boundary.
    static let start: Int64 = 1_792_886_400_000
    static let zones = ["UTC", "Asia/Kolkata", "America/New_York"].map { TimeZone(identifier: $0)! }

    @Test func foldedUsageEqualsBruteForceAtEveryIntervalAndZone() throws {
        let store = try TemporaryCatalog()
        let engine = try RollupEngine(catalog: store.catalog)
        let inputs = randomInputs(count: 4_000, start: Self.start, days: 14, seed: 1)
        for input in inputs { engine.fold(input) }
        try engine.checkpoint(watermark: RollupWatermark(segment: 1, offset: 100))

        // Ranges that start and end off every hour and day boundary.
        let from = Self.start + 37 * 60_000
        let to = Self.start + 13 * 86_400_000 - 13 * 60_000
        for zone in Self.zones {
            for interval in [UsageInterval.hour, .day, .month] {
                try checkAgainstBruteForce(
                    engine, inputs,
                    UsageQuery(
                        account: "acme", from: from, to: to, interval: interval, groupBy: [.model, .priced],
                        timeZone: zone))
            }
            // Minutes over the night of the DST change, ungrouped and grouped by everything.
            let night = Self.start + 7 * 86_400_000 - 60 * 60_000
            for groupBy: Set<UsageGroupField> in [[], Set(UsageGroupField.allCases)] {
                try checkAgainstBruteForce(
                    engine, inputs,
                    UsageQuery(
                        account: "acme", from: night, to: night + 10 * 3_600_000, interval: .minute, groupBy: groupBy,
                        timeZone: zone))
            }
        }
        try checkAgainstBruteForce(
            engine, inputs,
            UsageQuery(
                account: "acme", from: Self.start, to: Self.start + 14 * 86_400_000, interval: .day,
                groupBy: [.gateway, .provider, .success, .cached], timeZone: Self.zones[2]))
    }

    /// Inputs in bursts, as a busy gateway folds them: many in a row in one minute and one series, two accounts
    /// taking turns. The fold skips its lookups for a burst's cell, chunk and account (`LastHitList`); the sums are
    /// still every input's.
    @Test func burstsOfOneCellFoldAsEveryInput() throws {
        let store = try TemporaryCatalog()
        let engine = try RollupEngine(catalog: store.catalog)
        // Fourteen days of random inputs squeezed into twenty minutes, in time order, so runs share a minute.
        func squeezed(_ inputs: [RollupInput]) -> [RollupInput] {
            inputs.map { input in
                var input = input
                input.createdAt = Self.start + (input.createdAt - Self.start) / 1_000
                return input
            }
        }
        let acme = squeezed(randomInputs(count: 3_000, start: Self.start, days: 14, seed: 5))
        let beta = squeezed(randomInputs(count: 3_000, start: Self.start, days: 14, seed: 6, account: "beta"))
        let inputs = (acme + beta).sorted { ($0.createdAt, $0.model ?? "") < ($1.createdAt, $1.model ?? "") }
        for (i, input) in inputs.enumerated() {
            engine.fold(input)
            if i == inputs.count / 2 { try engine.checkpoint(watermark: RollupWatermark(segment: 1, offset: 1)) }
        }
        try engine.checkpoint(watermark: RollupWatermark(segment: 1, offset: 2))
        for account in ["acme", "beta"] {
            for interval in [UsageInterval.minute, .hour, .day] {
                try checkAgainstBruteForce(
                    engine, inputs,
                    UsageQuery(
                        account: account, from: Self.start, to: Self.start + 3_600_000, interval: interval,
                        groupBy: [.model, .gateway, .priced], timeZone: Self.zones[0]))
            }
        }
    }

    @Test func manyCheckpointsAndCompactionsAddUp() throws {
        let store = try TemporaryCatalog()
        var configuration = RollupEngine.Configuration()
        configuration.compactAfterParts = 3
        let engine = try RollupEngine(catalog: store.catalog, configuration: configuration)
        let inputs = randomInputs(count: 3_000, start: Self.start, days: 2, seed: 2).sorted {
            $0.createdAt < $1.createdAt
        }
        var compactions = 0
        var fullCompactions = 0
        for (i, input) in inputs.enumerated() {
            engine.fold(input)
            if i % 50 == 49 {
                let statistics = try engine.checkpoint(watermark: RollupWatermark(segment: 1, offset: UInt64(i)))
                compactions += statistics.compactions
                fullCompactions += statistics.fullCompactions
            }
        }
        try engine.checkpoint(watermark: RollupWatermark(segment: 2, offset: 0))
        // Both kinds: whole chunks, and the deltas alone of chunks with a big base (the day and month chunks).
        #expect(fullCompactions > 0)
        #expect(compactions > fullCompactions)
        let query = UsageQuery(
            account: "acme", from: Self.start, to: Self.start + 2 * 86_400_000, interval: .hour, groupBy: [.model])
        let before = try engine.usage(query)
        #expect(try engine.compactAll() > 0)
        #expect(try engine.compactAll() == 0)
        let after = try engine.usage(query)
        #expect(after.rows == before.rows)
        // One part per chunk: two days of hours are two day chunks.
        #expect(after.chunksRead[.hour] == 2)
        for interval in [UsageInterval.minute, .hour, .day] {
            try checkAgainstBruteForce(
                engine, inputs,
                UsageQuery(
                    account: "acme", from: Self.start, to: Self.start + 2 * 86_400_000, interval: interval,
                    groupBy: [.model], timeZone: Self.zones[1]))
        }
    }

    @Test func aNewEngineSeesWhatWasCheckpointedAndNothingElse() throws {
        let store = try TemporaryCatalog()
        let inputs = randomInputs(count: 3_000, start: Self.start, days: 3, seed: 3)
        let first = try RollupEngine(catalog: store.catalog)
        #expect(try first.watermark() == nil)
        for input in inputs[0..<1_000] { first.fold(input) }
        try first.checkpoint(watermark: RollupWatermark(segment: 1, offset: 10))
        for input in inputs[1_000..<2_000] { first.fold(input) }
        try first.checkpoint(watermark: RollupWatermark(segment: 2, offset: 20))
        for input in inputs[2_000...] { first.fold(input) }  // never checkpointed: lost at the "crash"

        let query = UsageQuery(
            account: "acme", from: Self.start, to: Self.start + 3 * 86_400_000, interval: .hour,
            groupBy: [.gateway, .model])
        let second = try RollupEngine(catalog: store.catalog)
        #expect(try second.watermark() == RollupWatermark(segment: 2, offset: 20))
        try checkAgainstBruteForce(second, Array(inputs[0..<2_000]), query)
        #expect(try second.usage(query).rows == first.usage(query).rows)

        // The replay after the crash: the new engine folds the lost inputs again (new series too).
        for input in inputs[2_000...] { second.fold(input) }
        second.fold(
            RollupInput(
                account: "acme", gateway: "new", provider: "openai", model: "m", success: true,
                createdAt: Self.start, durationMicros: 5))
        try second.checkpoint(watermark: RollupWatermark(segment: 3, offset: 0))
        let third = try RollupEngine(catalog: store.catalog)
        let all =
            inputs + [
                RollupInput(
                    account: "acme", gateway: "new", provider: "openai", model: "m", success: true,
                    createdAt: Self.start, durationMicros: 5)
            ]
        try checkAgainstBruteForce(third, all, query)

        try third.reset()
        #expect(try third.watermark() == nil)
        #expect(try third.usage(query).rows.isEmpty)
    }

    @Test func aFrozenCheckpointWritesWhatWasFoldedBeforeTheFreezeOnly() throws {
        let store = try TemporaryCatalog()
        let inputs = randomInputs(count: 1_800, start: Self.start, days: 2, seed: 7)
        let query = UsageQuery(
            account: "acme", from: Self.start, to: Self.start + 2 * 86_400_000, interval: .hour,
            groupBy: [.gateway, .model])
        let engine = try RollupEngine(catalog: store.catalog)
        // A commit begins; inputs folded while its fsync runs wait for the next checkpoint.
        for input in inputs[0..<1_000] { engine.fold(input) }
        engine.freeze()
        for input in inputs[1_000..<1_500] { engine.fold(input) }
        #expect(engine.frozenInputs == 1_000)
        #expect(engine.pendingInputs == 1_500)
        try engine.checkpointFrozen(watermark: RollupWatermark(segment: 1, offset: 10))
        #expect(engine.pendingInputs == 500)
        try checkAgainstBruteForce(try RollupEngine(catalog: store.catalog), Array(inputs[0..<1_000]), query)

        // The next commit's fsync fails: what it covered and what came after are taken back, and the commit after
        // writes the two together.
        engine.freeze()
        for input in inputs[1_500...] { engine.fold(input) }
        for input in inputs[1_200...] { engine.unfold(input) }
        engine.freeze()
        #expect(engine.frozenInputs == 500 + 300 + 600)
        try engine.checkpointFrozen(watermark: RollupWatermark(segment: 1, offset: 20))
        let reopened = try RollupEngine(catalog: store.catalog)
        #expect(try reopened.watermark() == RollupWatermark(segment: 1, offset: 20))
        try checkAgainstBruteForce(reopened, Array(inputs[0..<1_200]), query)
        #expect(engine.pendingInputs == 0)
    }

    @Test func replaceEqualsFoldingTheNewInputsFromScratch() throws {
        let store = try TemporaryCatalog()
        let engine = try RollupEngine(catalog: store.catalog)
        let old = randomInputs(count: 2_000, start: Self.start, days: 40, seed: 4)
        for input in old { engine.fold(input) }
        try engine.checkpoint(watermark: RollupWatermark(segment: 1, offset: 0))
        var rng = SplitMix64(seed: 5)
        var new = old
        for i in new.indices where i % 3 == 0 {
            // Repricing: priced ↔ unpriced, or another price.
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: new[i].cost = nil
            case 1: new[i].cost = Int64.random(in: 1...1_000_000, using: &rng)
            default: new[i].cost = (new[i].cost ?? 7) * 2
            }
            if i % 2 == 0 {
                engine.replace(old[i], with: new[i])
            } else {
                engine.adjustCost(of: old[i], to: new[i].cost)
            }
            if i % 300 == 0 { try engine.checkpoint(watermark: RollupWatermark(segment: 1, offset: UInt64(i))) }
        }
        try engine.checkpoint(watermark: RollupWatermark(segment: 2, offset: 0))

        let fresh = try TemporaryCatalog()
        let reference = try RollupEngine(catalog: fresh.catalog)
        for input in new { reference.fold(input) }
        try reference.checkpoint(watermark: RollupWatermark(segment: 2, offset: 0))

        for interval in [UsageInterval.hour, .day, .month] {
            let query = UsageQuery(
                account: "acme", from: Self.start, to: Self.start + 40 * 86_400_000, interval: interval,
                groupBy: [.model, .priced, .success])
            let a = try engine.usage(query)
            let b = try reference.usage(query)
            #expect(a.rows == b.rows, "\(interval)")
            #expect(a.totals == b.totals)
            try checkAgainstBruteForce(engine, new, query)
        }
    }

    @Test func aMonthAlignedRangeReadsOnlyMonthChunks() throws {
        let store = try TemporaryCatalog()
        let engine = try RollupEngine(catalog: store.catalog)
        let inputs = randomInputs(count: 2_000, start: Self.start, days: 60, seed: 6)
        for input in inputs { engine.fold(input) }
        try engine.checkpoint(watermark: RollupWatermark(segment: 1, offset: 0))
        let november: Int64 = 1_793_491_200_000  // 2026-11-01T00:00:00Z
        let december: Int64 = 1_796_083_200_000
        let monthly = try engine.usage(
            UsageQuery(account: "acme", from: november, to: december, interval: .month, groupBy: [.model]))
        #expect(monthly.chunksRead.keys.sorted() == [.month])
        let daily = try engine.usage(
            UsageQuery(account: "acme", from: november, to: december, interval: .day, groupBy: [.model]))
        // Day rows; the group totals over the range come from the month bucket.
        #expect(daily.chunksRead.keys.sorted() == [.day, .month])
        #expect(daily.totals.requests == monthly.totals.requests)
        #expect(daily.totals.cost == monthly.totals.cost)
        // A New York month: hours at both edges, days in between, never minutes.
        let newYork = try engine.usage(
            UsageQuery(
                account: "acme", from: november + 4 * 3_600_000, to: december + 5 * 3_600_000, interval: .month,
                groupBy: [.model], timeZone: TimeZone(identifier: "America/New_York")!))
        #expect(newYork.chunksRead[.minute] == nil)
        #expect(newYork.chunksRead[.hour] != nil)
        try checkAgainstBruteForce(
            engine, inputs,
            UsageQuery(
                account: "acme", from: november + 4 * 3_600_000, to: december + 5 * 3_600_000, interval: .month,
                groupBy: [.model], timeZone: TimeZone(identifier: "America/New_York")!))

        let report = try engine.monthlyReport(account: "acme", year: 2026, month: 11)
        #expect(report.totals.requests == monthly.totals.requests)
        #expect(report.chunksRead.keys.sorted() == [.month])
    }

    @Test func queriesReadOneSnapshotWhileCheckpointsCompact() async throws {
        final class Done: Sendable { let value = Mutex(false) }
        let store = try TemporaryCatalog()
        var configuration = RollupEngine.Configuration()
        configuration.compactAfterParts = 2
        let engine = try RollupEngine(catalog: store.catalog, configuration: configuration)
        let inputs = randomInputs(count: 6_000, start: Self.start, days: 1, seed: 9).sorted {
            $0.createdAt < $1.createdAt
        }
        let done = Done()
        let writer = Task.detached {
            defer { done.value.withLock { $0 = true } }
            for (i, input) in inputs.enumerated() {
                engine.fold(input)
                if i % 20 == 19 { try engine.checkpoint(watermark: RollupWatermark(segment: 1, offset: UInt64(i))) }
            }
            try engine.checkpoint(watermark: RollupWatermark(segment: 2, offset: 0))
        }
        var queries = 0
        var finished = false
        while !finished {
            finished = done.value.withLock { $0 }
            // Rows and totals are read in two passes: they agree only if both see the same checkpoints.
            let result = try engine.usage(
                UsageQuery(
                    account: "acme", from: Self.start, to: Self.start + 86_400_000, interval: .hour, groupBy: [.model]))
            #expect(result.rows.reduce(0) { $0 + $1.values.requests } == result.totals.requests)
            #expect(result.rows.reduce(Money.zero) { $0 + $1.values.cost } == result.totals.cost)
            queries += 1
        }
        try await writer.value
        #expect(queries > 1)
        try checkAgainstBruteForce(
            engine, inputs,
            UsageQuery(
                account: "acme", from: Self.start, to: Self.start + 86_400_000, interval: .hour, groupBy: [.model]))
    }

    @Test func badQueriesAreTypedErrors() throws {
        let store = try TemporaryCatalog()
        let engine = try RollupEngine(catalog: store.catalog)
        #expect(throws: UsageQueryError.emptyRange(from: Self.start, to: Self.start)) {
            try engine.usage(UsageQuery(account: "acme", from: Self.start, to: Self.start, interval: .day))
        }
        #expect(throws: UsageQueryError.notMinuteAligned(Self.start + 1)) {
            try engine.usage(UsageQuery(account: "acme", from: Self.start + 1, to: Self.start + 60_000, interval: .day))
        }
        #expect(throws: UsageQueryError.self) {
            try engine.usage(
                UsageQuery(account: "acme", from: Self.start, to: Self.start + 400 * 86_400_000, interval: .minute))
        }
        // Unknown account: no rows.
        #expect(
            try engine.usage(
                UsageQuery(
                    account: "nobody", from: Self.start, to: Self.start + 60_000,
                    interval: .minute)
            ).rows.isEmpty)
    }

    /// Rolling windows (from and to at random minutes) have no coarser cover than their rows: their group totals are
    /// added up from the rows instead of read apart. Both ways give the same rows, group totals and totals on
    /// random data, at every interval and zone, and the rolling 30 days by day agree with the brute force.
    @Test func totalsAddedUpFromTheRowsEqualTotalsReadApart() throws {
        let store = try TemporaryCatalog()
        let engine = try RollupEngine(catalog: store.catalog)
        let inputs = randomInputs(count: 6_000, start: Self.start, days: 40, seed: 7)
        for (i, input) in inputs.enumerated() {
            engine.fold(input)
            if i % 1_000 == 999 { try engine.checkpoint(watermark: RollupWatermark(segment: 1, offset: UInt64(i))) }
        }
        try engine.checkpoint(watermark: RollupWatermark(segment: 2, offset: 0))
        var rng = SplitMix64(seed: 11)
        for round in 0..<24 {
            let from = Self.start + Int64.random(in: 0..<(10 * 1_440), using: &rng) * 60_000
            let to = from + Int64.random(in: 1...(30 * 1_440), using: &rng) * 60_000
            let interval = [UsageInterval.hour, .day, .day, .month][round % 4]
            let query = UsageQuery(
                account: "acme", from: from, to: to, interval: interval,
                groupBy: round % 3 == 0 ? [.model] : [.model, .priced], timeZone: Self.zones[round % 3])
            let chosen = try engine.usage(query)
            for totalsApart in [true, false] {
                let other = try engine.usage(query, totalsApart: totalsApart)
                let label = "\(interval) \(from)..<\(to) in \(query.timeZone.identifier), apart: \(totalsApart)"
                #expect(other.rows == chosen.rows, "\(label): rows")
                #expect(other.groupTotals == chosen.groupTotals, "\(label): group totals")
                #expect(other.totals == chosen.totals, "\(label): totals")
            }
        }
        let from = Self.start + 5 * 86_400_000 + (14 * 60 + 37) * 60_000
        try checkAgainstBruteForce(
            engine, inputs,
            UsageQuery(account: "acme", from: from, to: from + 30 * 86_400_000, interval: .day, groupBy: [.model]))
    }

    /// Queries keep the chunks they added up (`ChunkSumsCache`) and reuse them while the chunks do not change. Every
    /// answer of an engine that keeps them — the writing engine, and another engine of the same catalog that only
    /// queries — equals the answer of an engine that keeps none, through checkpoints into closed days, repricing,
    /// compactions and a reset, with a cache small enough to evict; and the brute force agrees.
    @Test func keptChunkSumsAnswerWhatReadingAfreshAnswers() throws {
        let store = try TemporaryCatalog()
        let writer = try RollupEngine(catalog: store.catalog)
        let reader = try RollupEngine(catalog: store.catalog)
        var small = RollupEngine.Configuration()
        small.chunkSumsBytes = 300_000
        let evicting = try RollupEngine(catalog: store.catalog, configuration: small)
        var none = RollupEngine.Configuration()
        none.chunkSumsBytes = 0
        let fresh = try RollupEngine(catalog: store.catalog, configuration: none)
        var inputs = randomInputs(count: 5_000, start: Self.start, days: 40, seed: 21)
        for (i, input) in inputs.enumerated() {
            writer.fold(input)
            if i % 1_000 == 999 { try writer.checkpoint(watermark: RollupWatermark(segment: 1, offset: UInt64(i))) }
        }
        try writer.checkpoint(watermark: RollupWatermark(segment: 1, offset: 5_000))

        let rolling = Self.start + 3 * 86_400_000 + (14 * 60 + 37) * 60_000
        let queries = [
            UsageQuery(
                account: "acme", from: rolling, to: rolling + 30 * 86_400_000, interval: .day, groupBy: [.model]),
            UsageQuery(
                account: "acme", from: Self.start + 7 * 86_400_000, to: Self.start + 37 * 86_400_000, interval: .day,
                groupBy: [.model, .priced]),
            UsageQuery(
                account: "acme", from: rolling, to: rolling + 2 * 86_400_000, interval: .hour, groupBy: [.gateway],
                timeZone: Self.zones[1]),
            UsageQuery(
                account: "acme", from: Self.start, to: Self.start + 40 * 86_400_000, interval: .month, groupBy: [],
                measures: [.cost, .latency]),
            UsageQuery(
                account: "acme", from: rolling, to: rolling + 20 * 86_400_000, interval: .day,
                groupBy: [.provider, .success], timeZone: Self.zones[2], measures: [.tokens]),
        ]
        func compare(_ label: String) throws {
            for query in queries {
                let expected = try fresh.usage(query)
                for (name, engine) in [("writer", writer), ("reader", reader), ("evicting", evicting)] {
                    // Twice: the second answer comes from what the first kept.
                    for run in 0..<2 {
                        let result = try engine.usage(query)
                        let what = "\(label), \(name) run \(run), \(query.interval) by \(query.groupBy)"
                        #expect(result.rows == expected.rows, "\(what): rows")
                        #expect(result.groupTotals == expected.groupTotals, "\(what): group totals")
                        #expect(result.totals == expected.totals, "\(what): totals")
                        #expect(result.chunksRead == expected.chunksRead, "\(what): parts")
                    }
                }
            }
            let report = try writer.monthlyReport(account: "acme", year: 2026, month: 10)
            #expect(report.rows == (try fresh.monthlyReport(account: "acme", year: 2026, month: 10)).rows, "\(label)")
            try checkAgainstBruteForce(reader, inputs, queries[0])
        }
        try compare("loaded")
        #expect((writer.chunkSums?.bytes ?? 0) > 0)
        #expect((evicting.chunkSums?.bytes ?? 0) <= 300_000)

        // More requests in days long closed (a late replay), checkpointed.
        let late = randomInputs(count: 300, start: Self.start + 10 * 86_400_000, days: 5, seed: 22)
        for input in late { writer.fold(input) }
        inputs += late
        try writer.checkpoint(watermark: RollupWatermark(segment: 2, offset: 0))
        try compare("late requests")

        // Repricing: some requests get another cost (or none), moving between priced and unpriced series.
        for i in stride(from: 0, to: 2_000, by: 7) {
            let newCost: Int64? = i % 3 == 0 ? nil : Int64(i) * 1_000_000
            writer.adjustCost(of: inputs[i], to: newCost)
            inputs[i].cost = newCost
        }
        try writer.checkpoint(watermark: RollupWatermark(segment: 3, offset: 0))
        try compare("repriced")

        #expect(try writer.compactAll() > 0)
        try compare("compacted")

        try writer.reset()
        for query in queries {
            #expect(try reader.usage(query).rows.isEmpty)
            #expect(try writer.usage(query).rows.isEmpty)
        }
        inputs = randomInputs(count: 1_000, start: Self.start, days: 40, seed: 23)
        for input in inputs { writer.fold(input) }
        try writer.checkpoint(watermark: RollupWatermark(segment: 1, offset: 0))
        try compare("rebuilt")
    }
}

/// Block sums of a part (`PartSums.blocks`): for every run of buckets of a minute or hour chunk, and every group, the
/// nodes `forEachNode` gives add up to exactly the sums and sketch counts of the run's entries, with buckets and
/// groups left empty here and there.
@Suite struct PartBlockSumsTests {
    @Test func nodesOfEveryRunAddUpToItsEntries() {
        var rng = SplitMix64(seed: 31)
        for buckets in [60, 24, 7, 2] {
            let groups = (0..<3).map { UsageGroup(model: "m\($0)") }
            var decoded = PartSums.Decoded(offsets: [], group: [], sums: [])
            // Per (bucket, group): the raw latencies, nil where the group has nothing in that bucket.
            var raw = [[[Int64]?]](repeating: [[Int64]?](repeating: nil, count: groups.count), count: buckets)
            var requests = [[Int64]](repeating: [Int64](repeating: 0, count: groups.count), count: buckets)
            for b in 0..<buckets {
                for g in groups.indices where Int.random(in: 0..<4, using: &rng) != 0 || g == 0 && b == 0 {
                    let values = (0..<Int.random(in: 1...40, using: &rng)).map { _ in
                        Int64(rng.logNormal(mu: 12, sigma: 1).rounded())
                    }
                    var sketch = QuantileSketch()
                    for v in values { sketch.add(v) }
                    var sum = UsageAccumulator()
                    sum.values.requests = Int64(values.count)
                    sum.values.cost = Money(picodollars: Int128(b * 1_000 + g) << 70)
                    sum.latency.add(sketch)
                    decoded.offsets.append(Int32(b))
                    decoded.group.append(Int32(g))
                    decoded.sums.append(sum)
                    raw[b][g] = values
                    requests[b][g] = Int64(values.count)
                }
            }
            let part = PartSums(
                part: 1, decoded: decoded, read: [.requests, .cost, .latency], groups: groups,
                bucketsPerChunk: buckets, alone: { _ in true })
            #expect(!part.blocks.isEmpty)
            for first in 0..<buckets {
                for end in (first + 1)...buckets {
                    for g in groups.indices {
                        var sum = UsageAccumulator(dense: true)
                        var nodes = 0
                        part.forEachNode(group: g, first: first, end: end) { node in
                            sum.add(part, node)
                            nodes += 1
                        }
                        let values = (first..<end).flatMap { raw[$0][g] ?? [] }
                        let label = "\(buckets) buckets, \(first)..<\(end), group \(g)"
                        #expect(nodes <= 4 * (buckets.bitWidth - buckets.leadingZeroBitCount), "\(label): nodes")
                        #expect(sum.values.requests == (first..<end).reduce(0) { $0 + requests[$1][g] }, "\(label)")
                        let cost = (first..<end).reduce(Int128(0)) {
                            raw[$1][g] == nil ? $0 : $0 + (Int128($1 * 1_000 + g) << 70)
                        }
                        #expect(sum.values.cost.picodollars == cost, "\(label): cost")
                        var sketch = QuantileSketch()
                        for v in values { sketch.add(v) }
                        #expect(sum.latency.count == Int64(values.count), "\(label): sketch count")
                        for q in [0.01, 0.25, 0.5, 0.9, 0.99, 1.0] where !values.isEmpty {
                            #expect(sum.latency.quantile(q) == sketch.quantile(q), "\(label): q \(q)")
                        }
                    }
                }
            }
        }
    }
}

extension RollupEngineTests {
    /// Windows that start and end inside a day, on a minute or on an hour, so that rows add up runs of minute and
    /// hour buckets from their block sums: equal to the brute force (exact sums, every percentile as one sketch of
    /// the raw values) and to totals read apart, over chunks of many parts (one per checkpoint), after repricing
    /// and after compaction (both write new chunk versions), with kept sums and without.
    @Test func windowsStartingAndEndingInsideDaysAddUpTheirMinutesAndHours() throws {
        let store = try TemporaryCatalog()
        let engine = try RollupEngine(catalog: store.catalog)
        var none = RollupEngine.Configuration()
        none.chunkSumsBytes = 0
        let fresh = try RollupEngine(catalog: store.catalog, configuration: none)
        var inputs = randomInputs(count: 6_000, start: Self.start, days: 4, seed: 41)
        // Unsorted: every checkpoint adds a part to most chunks.
        for (i, input) in inputs.enumerated() {
            engine.fold(input)
            if i % 700 == 699 { try engine.checkpoint(watermark: RollupWatermark(segment: 1, offset: UInt64(i))) }
        }
        try engine.checkpoint(watermark: RollupWatermark(segment: 1, offset: 6_000))

        let minute: Int64 = 60_000
        let hour: Int64 = 3_600_000
        let day: Int64 = 86_400_000
        let windows: [(from: Int64, to: Int64)] = [
            (Self.start + 14 * hour + 37 * minute, Self.start + 2 * day + 14 * hour + 37 * minute),  // minutes
            (Self.start + 5 * hour, Self.start + 3 * day + 17 * hour),  // hours
            (Self.start + 9 * hour + 1 * minute, Self.start + day + 9 * hour + 59 * minute),  // 1 and 59 minutes
            (Self.start + day + 3 * hour + 10 * minute, Self.start + day + 3 * hour + 50 * minute),  // inside an hour
            (Self.start + 2 * day + 23 * hour + 50 * minute, Self.start + 3 * day + 10 * minute),  // across midnight
        ]
        func check(_ label: String) throws {
            for (n, window) in windows.enumerated() {
                for interval in [UsageInterval.day, .hour, .month] {
                    let zone = Self.zones[n % 2]  // UTC, Kolkata (days from 18:30 UTC: more runs of minutes)
                    let query = UsageQuery(
                        account: "acme", from: window.from, to: window.to, interval: interval,
                        groupBy: n % 2 == 0 ? [.model] : [.model, .priced], timeZone: zone)
                    try checkAgainstBruteForce(engine, inputs, query)
                    let expected = try fresh.usage(query)
                    for totalsApart in [true, false] {
                        let result = try engine.usage(query, totalsApart: totalsApart)
                        let what = "\(label): window \(n), \(interval) in \(zone.identifier), apart \(totalsApart)"
                        #expect(result.rows == expected.rows, "\(what): rows")
                        #expect(result.groupTotals == expected.groupTotals, "\(what): group totals")
                        #expect(result.totals == expected.totals, "\(what): totals")
                    }
                }
            }
        }
        try check("loaded")

        // Repricing moves requests between priced and unpriced series in chunks already added up.
        for i in stride(from: 0, to: inputs.count, by: 5) {
            let newCost: Int64? = i % 2 == 0 ? nil : Int64(i) * 3_000_000
            engine.adjustCost(of: inputs[i], to: newCost)
            inputs[i].cost = newCost
        }
        try engine.checkpoint(watermark: RollupWatermark(segment: 2, offset: 0))
        try check("repriced")

        #expect(try engine.compactAll() > 0)
        try check("compacted")
    }
}

extension PartBlockSumsTests {
    /// Block sums are kept for the edges of a rolling window (one or two minute or hour chunks whose runs rows add
    /// up), not for rows of single buckets nor for a month of hour chunks that would not stay kept.
    @Test func blockSumsAreKeptWhereRowsAddUpRunsOfFewChunks() throws {
        let day: Int64 = 86_400_000
        let hour: Int64 = 3_600_000
        let minute: Int64 = 60_000
        let start = RollupEngineTests.start
        func decision(_ interval: UsageInterval, _ zone: String, from: Int64, to: Int64) throws -> [RollupLevel: [Int]]
        {
            let query = UsageQuery(
                account: "acme", from: from, to: to, interval: interval, timeZone: TimeZone(identifier: zone)!)
            let boundaries = try RollupEngine.bucketBoundaries(query, limit: 50_000)
            let reader = UsageReader(query: query, boundaries: boundaries, columns: [.requests], cache: nil)
            let cover = RollupEngine.coverage(boundaries: boundaries, from: from, to: to)
            var result: [RollupLevel: [Int]] = [:]
            for level in RollupLevel.allCases {
                for cluster in RollupEngine.clusters(cover.runs[level.rawValue], level: level) {
                    result[level, default: []].append(
                        reader.blocks(level: level, runs: cluster.runs, chunks: cluster.chunks))
                }
            }
            return result
        }
        let rolling = start + 14 * hour + 37 * minute
        let edges = try decision(.day, "UTC", from: rolling, to: rolling + 30 * day)
        #expect(edges[.minute] == [60, 60])
        #expect(edges[.hour] == [24, 24])
        #expect(edges[.day]?.allSatisfy { $0 == 0 } == true)
        // Hourly rows are single hour buckets; only the minutes of the first and last hour are runs.
        let hourly = try decision(.hour, "UTC", from: rolling, to: rolling + day)
        #expect(hourly[.hour] == [0])
        #expect(hourly[.minute] == [60, 60])
        // A New York month: 31 hour chunks in one range, added up once per query.
        let newYork = try decision(.day, "America/New_York", from: start + 4 * hour, to: start + 31 * day + 4 * hour)
        #expect(newYork[.hour]?.allSatisfy { $0 == 0 } == true)
    }
}

/// What the store's observer folds for an appended record (`RollupInput(record, price:)`, read where the record lies)
/// is what a rebuild and a discard fold from its index entry (`RollupInput(entry)`): the same fields, charged the same
/// way, for cache hits, refusals, priced and unpriced requests, and the synthetic traffic's variety.
@Test func theRollupInputOfAnAppendedRecordIsThatOfItsIndexEntry() {
    var records = SyntheticTrafficTests.records(seed: 11, payloads: .none, count: 300)
    let refusals: [GatewayRefusal?] = [nil, nil, .rateLimited, nil, .spendLimitExceeded]
    var cases = 0
    for i in records.indices {
        records[i].cached = i % 4 == 1
        records[i].refusal = refusals[i % refusals.count]
        let price: Int64? = i % 3 == 0 ? nil : Int64(i) * 1_000_003
        let entry = LogIndexEntry(
            records[i], location: RecordLocation(segment: 1, offset: UInt64(i) * 100, length: 90), price: price)
        let fromRecord = withUnsafePointer(to: records[i]) { RollupInput($0, price: price) }
        #expect(fromRecord == RollupInput(entry), "record \(i)")
        if records[i].cached && records[i].refusal == nil && price != nil {
            #expect(fromRecord.cost == 0 && fromRecord.saved == price)
            cases += 1
        }
    }
    #expect(cases > 10)
}
