import ArgumentParser
import Foundation
import TollgateAnalytics
import TollgateModel
import TollgateStorage

/// `tollgate generate`: synthetic traffic straight into a data folder's store, priced and rolled up like real
/// requests. For demos and benchmarks.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write realistic synthetic logs for an account into the data folder (stop the gateway first).")

    @OptionGroup var data: DataFolderOptions
    @Option(help: "Account to write for (created if missing).") var account: String
    @Option(help: "Records to write.") var records: Int
    @Option(help: "Days the records span, ending now (or at --end).") var days: Int = 30
    @Option(help: "End of the span: YYYY-MM-DD or RFC 3339 (default: now).") var end: String?
    @Option(help: "Random seed: the same seed gives the same records.") var seed: UInt64 = 1
    @Flag(help: "Write metadata only, no headers or bodies (smaller and faster).") var noPayload = false

    func validate() throws {
        guard Identifier.isValid(account) else { throw ValidationError("--account must match [a-z0-9][a-z0-9-]{0,63}") }
        guard records > 0 else { throw ValidationError("--records must be positive") }
        guard (1...3660).contains(days) else { throw ValidationError("--days must be from 1 to 3660") }
    }

    func run() throws {
        let logger = DataFolderOptions.logger()
        let endMs = try end.map { try parseDate($0, option: "--end") } ?? WallClock.system()
        let startMs = endMs - Int64(days) * 86_400_000
        let (ledger, store) = try Ledger.openStore(directory: data.path, logger: logger)
        if try store.catalog.account(account) == nil { _ = try store.catalog.createAccount(id: account, tier: "paid") }
        for gateway in SyntheticTraffic.gatewayNames
        where try store.catalog.gateway(account: account, id: gateway) == nil {
            _ = try store.catalog.createGateway(account: account, id: gateway, collectLogs: true)
        }
        var traffic = SyntheticTraffic(
            seed: seed, count: records, start: startMs, end: endMs, payloads: noPayload ? .none : .small)
        let progress = ProgressBar("generate", total: records)
        var written = 0
        var batch: [LogRecord] = []
        batch.reserveCapacity(1024)
        var sinceCommit = 0
        var rawBodies: Int64 = 0
        while written < records {
            batch.removeAll(keepingCapacity: true)
            for _ in 0..<min(1024, records - written) {
                let record = traffic.next(account: account)
                rawBodies += record.requestSize + record.responseSize
                batch.append(record)
            }
            try store.append(batch)
            written += batch.count
            sinceCommit += batch.count
            if sinceCommit >= 50_000 {
                try store.commit()
                sinceCommit = 0
            }
            progress.update(written)
        }
        try store.close()
        // A bulk load leaves the rollup chunks it touched in many parts; one compaction spares every query the sum.
        try ledger.rollups.compactAll()
        progress.finish(written)
        Output.line(
            "wrote \(written) records for account \(account) from \(RFC3339.format(milliseconds: startMs)) to "
                + "\(RFC3339.format(milliseconds: endMs)) into \(data.path) (raw bodies: \(rawBodies) bytes, "
                + "the sum of the logs' request and response sizes)")
    }
}
