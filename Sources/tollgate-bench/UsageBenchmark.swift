import ArgumentParser
import Foundation
import Logging
import TollgateAnalytics
import TollgateModel
import TollgateStorage

/// `tollgate-bench usage`: the two questions a finance team asks, timed against a data folder filled by
/// `tollgate generate` — the monthly cost report, and a usage query over a range grouped by model with latency and
/// TTFT percentiles. Cold is the first run in this process (new SQLite connections, empty caches); warm is the
/// median of the following runs. Prints JSON, with the sums, for `scripts/bench-usage.sh` to compare with DuckDB.
struct UsageBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "usage", abstract: "Time the monthly report and a usage query on a generated data folder.")

    @Option(help: "Data folder.") var data: String
    @Option(help: "Account.") var account: String
    @Option(help: "Month of the report, YYYY-MM.") var month: String
    @Option(help: "Usage range start, RFC 3339.") var from: String
    @Option(help: "Usage range end, RFC 3339.") var to: String
    @Option(help: "Runs per query (the first is cold).") var runs = 21

    func run() throws {
        guard let monthStart = UTCMonth.parse(month) else { throw ValidationError("--month: YYYY-MM") }
        guard let fromMs = RFC3339.parse(from), let toMs = RFC3339.parse(to) else {
            throw ValidationError("--from/--to: RFC 3339")
        }
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let catalog = try Catalog(dataDirectory: data, logger: logger)
        guard let account = try catalog.account(account) else { throw ValidationError("no account") }
        let rollups = try RollupEngine(catalog: catalog)
        let clock = ContinuousClock()
        func ms(_ d: Duration) -> Double {
            Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        }

        var reportTimes: [Double] = []
        var report: MonthlyReport?
        for _ in 0..<runs {
            let start = clock.now
            report = try MonthlyReport.make(
                account: account, monthStart: monthStart, rollups: rollups, catalog: catalog)
            reportTimes.append(ms(clock.now - start))
        }
        let query = UsageQuery(account: account.id, from: fromMs, to: toMs, interval: .day, groupBy: [.model])
        var usageTimes: [Double] = []
        var usage: UsageResult?
        for _ in 0..<runs {
            let start = clock.now
            usage = try rollups.usage(query)
            usageTimes.append(ms(clock.now - start))
        }
        func warm(_ times: [Double]) -> Double {
            let rest = times.dropFirst().sorted()
            return rest.isEmpty ? times[0] : rest[rest.count / 2]
        }
        func r(_ x: Double) -> String { String(format: "%.2f", x) }
        guard let report, let usage else { return }
        var byModel: [String] = []
        for row in usage.groupTotals {
            let v = row.values
            let latency = v.latency.map {
                "[\(r($0.p50 / 1000)),\(r($0.p90 / 1000)),\(r($0.p95 / 1000)),\(r($0.p99 / 1000))]"
            }
            byModel.append(
                "\(JSONText.quoted(row.group.model ?? "")):{\"requests\":\(v.requests),\"tokens_in\":\(v.tokensIn),"
                    + "\"tokens_out\":\(v.tokensOut),\"cost\":\"\(v.cost.usd)\",\"latency_ms\":\(latency ?? "null")}")
        }
        print(
            """
            {"monthly_ms":{"cold":\(r(reportTimes[0])),"warm_p50":\(r(warm(reportTimes)))},\
            "usage_ms":{"cold":\(r(usageTimes[0])),"warm_p50":\(r(warm(usageTimes)))},\
            "chunks_read":{\(usage.chunksRead.sorted { $0.key < $1.key }.map { "\"\($0.key.name)\":\($0.value)" }.joined(separator: ","))},\
            "totals":{"requests":\(report.totals.requests),"tokens_in":\(report.totals.tokensIn),\
            "tokens_out":\(report.totals.tokensOut),"cost":"\(report.totals.cost.usd)"},\
            "usage_totals":{"requests":\(usage.totals.requests),"cost":"\(usage.totals.cost.usd)"},\
            "by_model":{\(byModel.joined(separator: ","))}}
            """)
    }
}
