import ArgumentParser
import Foundation
import TollgateAnalytics
import TollgateModel
import TollgateStorage

/// `tollgate compact`: one retention and compaction pass now, on a data folder no gateway holds: deletes the logs
/// past their retention from the index, then rewrites the sealed segments holding deleted logs so their content
/// leaves the disk (usage and reports keep counting them).
struct CompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Delete logs past their retention and compact segments holding deleted logs (stop the gateway first)."
    )

    @OptionGroup var data: DataFolderOptions
    @Option(help: "Only this account's expired logs, and the segments holding its deleted logs.") var account: String?
    @Option(help: "Keep this many days of logs, instead of each account's and gateway's retention setting.")
    var retentionDays: Int?
    @Option(help: "The time retention counts back from: YYYY-MM-DD or RFC 3339 (default: now).") var now: String?

    func run() throws {
        if let retentionDays, retentionDays < 1 { throw ValidationError("--retention-days must be at least 1") }
        let clock = TollgateClock.system
        let nowMs = try now.map { try parseDate($0, option: "--now") } ?? clock.wallMilliseconds()
        let started = clock.monotonicNanoseconds()
        let (_, store) = try Ledger.openStore(directory: data.path, logger: DataFolderOptions.logger())
        if let account, try store.catalog.account(account) == nil { throw ValidationError("no account \(account)") }
        let expired = try store.applyRetention(now: nowMs, account: account, days: retentionDays) { deleted in
            if deleted % 100_000 == 0 { Output.line("retention: \(deleted) expired logs deleted so far") }
        }
        let deleted = clock.monotonicNanoseconds()
        Output.line("retention: \(expired) expired logs deleted from the index in \(seconds(deleted &- started))")
        var bar: ProgressBar?
        let report = try store.compact(account: account) { done, total in
            if bar == nil { bar = ProgressBar("compact", total: total) }
            bar?.update(done)
        }
        bar?.finish(report.segments + report.dropped)
        try store.close()
        Output.line(
            "compaction: \(report.dropped) segments dropped whole, \(report.segments) rewritten, "
                + "\(report.purged) deleted logs purged, "
                + "\(report.bytesBefore) → \(report.bytesAfter) bytes, \(report.deferred) segments deferred "
                + "(active, or not yet checkpointed past), in \(seconds(clock.monotonicNanoseconds() &- deleted)); "
                + String(format: "longest segment commit %.0f ms", report.longestCommitMillis))
    }

    private func seconds(_ nanoseconds: UInt64) -> String {
        String(format: "%.2fs", Double(nanoseconds) / 1e9)
    }
}
