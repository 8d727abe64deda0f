import ArgumentParser
import Foundation
import TollgateAnalytics
import TollgateModel
import TollgateStorage

/// `tollgate-bench rollup`: the rollup engine alone. Folds synthetic requests of one account spread evenly over
/// `--days` days (checkpointing as a rebuild would), then measures checkpoints at a live rate (5,000 records/s,
/// one checkpoint per 200 ms of records) and usage queries, cold (new engine and connections) and warm.
struct RollupBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollup", abstract: "Benchmark the rollup engine: fold, checkpoint, usage queries.")

    @Option(help: "Records to fold.") var records = 1_000_000
    @Option(help: "Distinct (gateway, provider, model) keys.") var keys = 100
    @Option(help: "Days the records are spread over, from 2026-11-01 UTC.") var days = 30
    @Option(help: "Records per checkpoint while loading.") var loadCheckpoint = 250_000
    @Option(help: "Live phase: records per second (one checkpoint per 200 ms of them).") var liveRate = 5_000
    @Option(help: "Live phase: checkpoints.") var liveCheckpoints = 300
    @Option(help: "Warm runs of each query.") var runs = 20
    @Option(help: "Only these queries (0-based numbers, comma-separated); all by default.") var queries: String?
    @Option(help: "Where to write; a temporary folder by default (removed afterwards).") var data: String?
    @Option(help: "Random seed.") var seed: UInt64 = 42
    @Flag(help: "Query the rollups already in --data (from an earlier run kept there) without loading.")
    var reuse = false
    @Flag(inversion: .prefixedNo, help: "Compact every chunk after loading, as after a rebuild.")
    var compactAfterLoad = true

    func run() throws {
        let directory = data ?? (NSTemporaryDirectory() + "tollgate-bench-\(UUID().uuidString)")
        defer { if data == nil { try? FileManager.default.removeItem(atPath: directory) } }
        let catalog = try Catalog(dataDirectory: directory)
        let engine = try RollupEngine(catalog: catalog)
        let start: Int64 = 1_793_491_200_000  // 2026-11-01T00:00:00Z
        let span = Int64(days) * 86_400_000
        print(
            "machine: \(ProcessInfo.processInfo.activeProcessorCount) cores, "
                + "\(ProcessInfo.processInfo.physicalMemory >> 30) GiB")
        print("records: \(records) over \(days) days, \(keys) keys, account bench")
        if !(reuse && data != nil) {
            try load(engine: engine, catalog: catalog, start: start, span: span)
        }
        try runQueries(engine: engine, directory: directory, start: start, span: span)
    }

    private func load(engine: RollupEngine, catalog: Catalog, start: Int64, span: Int64) throws {
        var generator = RollupInputs(keys: keys, seed: seed)

        // Load: fold in batches (generated outside the timing), checkpoint every `loadCheckpoint` records.
        var foldSeconds = 0.0
        var checkpointSeconds = 0.0
        var checkpoints = 0
        var folded = 0
        let batchSize = 50_000
        var sinceCheckpoint = 0
        while folded < records {
            let n = min(batchSize, records - folded)
            let batch = (0..<n).map { i in
                generator.next(createdAt: start + span * Int64(folded + i) / Int64(records))
            }
            let t0 = now()
            for input in batch { engine.fold(input) }
            foldSeconds += now() - t0
            folded += n
            sinceCheckpoint += n
            if sinceCheckpoint >= loadCheckpoint || folded == records {
                let t1 = now()
                try engine.checkpoint(watermark: RollupWatermark(segment: 1, offset: UInt64(folded)))
                checkpointSeconds += now() - t1
                checkpoints += 1
                sinceCheckpoint = 0
            }
        }
        print(
            String(
                format: "fold: %.0f records/s, %.3f µs/record (all four levels); load checkpoints: %d, %.2f s total",
                Double(records) / foldSeconds, foldSeconds * 1e6 / Double(records), checkpoints, checkpointSeconds))
        if compactAfterLoad {
            let t0 = now()
            let compacted = try engine.compactAll()
            print(String(format: "compact after load: %d chunks, %.2f s", compacted, now() - t0))
        }

        // Live: checkpoints of 200 ms of records at `liveRate`, right after the loaded range.
        let perCheckpoint = max(1, liveRate / 5)
        var liveTimes: [Double] = []
        var liveBytes = 0
        var liveFold = 0.0
        var compactions = 0
        var t = start + span
        for c in 0..<liveCheckpoints {
            let batch = (0..<perCheckpoint).map { i in
                generator.next(createdAt: t + Int64(i) * 200 / Int64(perCheckpoint))
            }
            t += 200
            let t0 = now()
            for input in batch { engine.fold(input) }
            let t1 = now()
            let statistics = try engine.checkpoint(
                watermark: RollupWatermark(segment: 2, offset: UInt64(c)))
            liveFold += t1 - t0
            liveTimes.append(now() - t1)
            liveBytes += statistics.bytesWritten
            compactions += statistics.compactions
        }
        liveTimes.sort()
        print(
            String(
                format:
                    "live checkpoints (%d records/s, %d per checkpoint, %d checkpoints): p50 %.2f ms, p99 %.2f ms, "
                    + "max %.2f ms, mean %.2f ms, %.1f KB written per checkpoint, %d compactions",
                liveRate, perCheckpoint, liveCheckpoints, liveTimes[liveTimes.count / 2] * 1e3,
                liveTimes[liveTimes.count * 99 / 100] * 1e3, liveTimes.last! * 1e3,
                liveTimes.reduce(0, +) / Double(liveTimes.count) * 1e3,
                Double(liveBytes) / Double(liveCheckpoints) / 1024,
                compactions))
        let fileBytes = (try? FileManager.default.attributesOfItem(atPath: catalog.path)[.size] as? Int) ?? 0
        let walBytes = (try? FileManager.default.attributesOfItem(atPath: catalog.path + "-wal")[.size] as? Int) ?? 0
        print(String(format: "catalog size: %.1f MB (+ %.1f MB WAL)", Double(fileBytes) / 1e6, Double(walBytes) / 1e6))
    }

    private func runQueries(engine: RollupEngine, directory: String, start: Int64, span: Int64) throws {

        let newYork = TimeZone(identifier: "America/New_York")!
        let all: [(String, (RollupEngine) throws -> UsageResult)] = [
            (
                "30 days, daily, by model, all measures (UTC)",
                {
                    try $0.usage(
                        UsageQuery(account: "bench", from: start, to: start + span, interval: .day, groupBy: [.model]))
                }
            ),
            (
                "30 days, daily, by model, all measures (America/New_York)",
                {
                    try $0.usage(
                        UsageQuery(
                            account: "bench", from: start + 5 * 3_600_000, to: start + span + 5 * 3_600_000,
                            interval: .day, groupBy: [.model], timeZone: newYork))
                }
            ),
            (
                "monthly report 2026-11 (gateway, provider, model, priced)",
                { try $0.monthlyReport(account: "bench", year: 2026, month: 11) }
            ),
            (
                "last 24 h, hourly, by model, all measures",
                {
                    try $0.usage(
                        UsageQuery(
                            account: "bench", from: start + span - 86_400_000, to: start + span, interval: .hour,
                            groupBy: [.model]))
                }
            ),
            (
                "last 24 h, hourly, by model, counts and cost only",
                {
                    try $0.usage(
                        UsageQuery(
                            account: "bench", from: start + span - 86_400_000, to: start + span, interval: .hour,
                            groupBy: [.model], measures: [.cost]))
                }
            ),
            (
                "rolling 30 days from 14:37, daily, by model, all measures (UTC; needs --days 31)",
                {
                    let from = start + (14 * 60 + 37) * 60_000
                    return try $0.usage(
                        UsageQuery(
                            account: "bench", from: from, to: from + 30 * 86_400_000, interval: .day,
                            groupBy: [.model]))
                }
            ),
        ]
        let selected = queries.map { Set($0.split(separator: ",").compactMap { Int($0) }) }
        for (number, (name, query)) in all.enumerated() where selected?.contains(number) ?? true {
            let cold = try RollupEngine(catalog: Catalog(dataDirectory: directory))
            let c0 = now()
            let first = try query(cold)
            let coldSeconds = now() - c0
            var warm: [Double] = []
            var cpu: [Double] = []
            for _ in 0..<runs {
                let w0 = now()
                let c0 = threadCPUSeconds()
                _ = try query(engine)
                cpu.append(threadCPUSeconds() - c0)
                warm.append(now() - w0)
            }
            warm.sort()
            cpu.sort()
            let levels = first.chunksRead.sorted { $0.key < $1.key }.map { "\($0.key.name) \($0.value)" }
            print(
                String(
                    format:
                        "%@: %d rows, cold %.2f ms, warm p50 %.2f ms (min %.2f, max %.2f; CPU p50 %.2f ms); parts read: %@",
                    name, first.rows.count, coldSeconds * 1e3, warm[warm.count / 2] * 1e3, warm.first! * 1e3,
                    warm.last! * 1e3, cpu[cpu.count / 2] * 1e3, levels.joined(separator: ", ")))
        }
    }

    private func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

/// Synthetic requests of `keys` (gateway, provider, model) combinations, mostly successful and priced, with
/// lognormal latencies.
struct RollupInputs {
    var rng: SplitMix64
    let names: [(String, String, String)]

    init(keys: Int, seed: UInt64) {
        rng = SplitMix64(seed: seed)
        let providers = ["openai", "anthropic", "google-ai-studio", "groq", "mistral"]
        names = (0..<keys).map { k in
            ("gw-\(k % 4)", providers[(k / 4) % providers.count], "model-\(k / 20)-\(k % 20)")
        }
    }

    mutating func random() -> UInt64 { rng.next() }

    mutating func uniform() -> Double { Double(random() >> 11) / Double(1 << 53) }

    mutating func logNormal(mu: Double, sigma: Double) -> Int64 {
        let u1 = max(uniform(), 1e-12)
        let u2 = uniform()
        return Int64(exp(mu + sigma * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)))
    }

    mutating func next(createdAt: Int64) -> RollupInput {
        let key = names[Int(random() % UInt64(names.count))]
        let roll = random() % 100
        let tokensIn = Int64(random() % 8_000)
        let tokensOut = Int64(random() % 1_000)
        return RollupInput(
            account: "bench", gateway: key.0, provider: key.1, model: key.2, success: roll >= 3, cached: false,
            createdAt: createdAt, tokensIn: tokensIn, tokensOut: tokensOut, cachedTokensIn: tokensIn / 4,
            cacheWriteTokens: roll < 10 ? tokensIn / 2 : nil, reasoningTokens: roll < 30 ? tokensOut / 2 : nil,
            cost: roll < 95 ? tokensIn * 1_250_000 + tokensOut * 10_000_000 : nil,
            durationMicros: logNormal(mu: 13.5, sigma: 0.9),
            ttftMicros: roll < 70 ? logNormal(mu: 12.5, sigma: 0.8) : nil)
    }
}
