import ArgumentParser
import Foundation
import Synchronization
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
        let endMs = try end.map { try parseDate($0, option: "--end") } ?? TollgateClock.system.wallMilliseconds()
        let startMs = endMs - Int64(days) * 86_400_000
        let (ledger, store) = try Ledger.openStore(directory: data.path, logger: logger)
        if try store.catalog.account(account) == nil { _ = try store.catalog.createAccount(id: account, tier: "paid") }
        for gateway in SyntheticTraffic.gatewayNames
        where try store.catalog.gateway(account: account, id: gateway) == nil {
            _ = try store.catalog.createGateway(account: account, id: gateway, collectLogs: true)
        }
        // The records are made and priced on a thread of their own while this one stores them (the two cores share
        // the work); one producer in order, so a seed still gives the same records in the same order.
        let batches = RecordBatches(capacity: 4)
        let (seed, records, account, payloads) = (
            seed, records, account, noPayload ? SyntheticTraffic.Payloads.none : .small
        )
        let producer = Thread {
            var traffic = SyntheticTraffic(seed: seed, count: records, start: startMs, end: endMs, payloads: payloads)
            var made = 0
            while made < records {
                let count = min(1024, records - made)
                var batch: [LogRecord] = []
                batch.reserveCapacity(count)
                for _ in 0..<count { batch.append(traffic.next(account: account)) }
                made += count
                batches.put((batch, batch.map { store.price(of: $0) }))
                // Stored batches are freed here, beside the making, not on the thread that stores.
                batches.dropStored()
            }
        }
        producer.start()
        let progress = ProgressBar("generate", total: records)
        var written = 0
        var sinceCommit = 0
        var rawBodies: Int64 = 0
        while written < records {
            let (batch, prices) = batches.take()
            for record in batch { rawBodies += record.requestSize + record.responseSize }
            try store.append(batch, prices: prices)
            written += batch.count
            batches.stored(batch)
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
        // The compaction wrote after the store's close had emptied the catalog's write-ahead log: empty it again.
        try store.catalog.checkpoint()
        progress.finish(written)
        Output.line(
            "wrote \(written) records for account \(account) from \(RFC3339.format(milliseconds: startMs)) to "
                + "\(RFC3339.format(milliseconds: endMs)) into \(data.path) (raw bodies: \(rawBodies) bytes, "
                + "the sum of the logs' request and response sizes)")
    }
}

/// A bounded hand-over of record batches, with their prices, from the thread that makes them to the one that
/// stores them, and back once stored: freeing a batch (each record's strings and buffers) is work the storing
/// thread, which bounds the rate, leaves to the other.
private final class RecordBatches: Sendable {
    typealias Batch = (records: [LogRecord], prices: [Int64?])
    private let queue = Mutex<[Batch]>([])
    private let spent = Mutex<[[LogRecord]]>([])
    private let free: DispatchSemaphore
    private let ready = DispatchSemaphore(value: 0)

    init(capacity: Int) { free = DispatchSemaphore(value: capacity) }

    /// Waits for room, then hands `batch` over.
    func put(_ batch: Batch) {
        free.wait()
        queue.withLock { $0.append(batch) }
        ready.signal()
    }

    /// Waits for the next batch.
    func take() -> Batch {
        ready.wait()
        let batch = queue.withLock { $0.removeFirst() }
        free.signal()
        return batch
    }

    /// Hands a stored batch back, to be freed by `dropStored`.
    func stored(_ records: [LogRecord]) {
        spent.withLock { $0.append(records) }
    }

    /// Frees the batches handed back so far, on the calling thread.
    func dropStored() {
        let batches = spent.withLock { spent in
            defer { spent.removeAll() }
            return spent
        }
        _ = consume batches
    }
}
