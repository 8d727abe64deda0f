import Logging
import TollgateModel
import TollgateStorage

/// What the stored records add up to, kept as they are stored: the ledger prices every record the log store
/// indexes (`PriceBook`) and folds it into the usage rollups (`RollupEngine`), and, after the price table changes,
/// reprices a period of an account's logs and their rollups.
///
/// It is the log store's observer (`LogStoreObserver`): on the store's writer thread it prices each record, folds
/// each appended one, and checkpoints the rollups after each commit with the position of the newest record it made
/// durable (queue → store → rollup, never a nightly scan). After a crash, `open` replays the records after the rollups'
/// checkpoint from the segments, so the rollups count every stored record exactly once.
public final class Ledger: LogStoreObserver {
    public let prices: PriceBook
    public let rollups: RollupEngine
    let logger: Logger

    public init(prices: PriceBook, rollups: RollupEngine, logger: Logger) {
        self.prices = prices
        self.rollups = rollups
        self.logger = logger
    }

    // MARK: LogStoreObserver

    public func price(of record: LogRecord) -> Int64? {
        prices.price(of: record)
    }

    public func appended(_ record: UnsafePointer<LogRecord>, price: Int64?) {
        rollups.fold(RollupInput(record, price: price))
    }

    public func discarded(_ entries: [LogIndexEntry]) {
        for entry in entries { rollups.unfold(RollupInput(entry)) }
    }

    public func commitBegan() {
        rollups.freeze()
    }

    public func committed(through last: RecordLocation?) throws {
        guard let last, rollups.frozenInputs > 0 else { return }
        try rollups.checkpointFrozen(watermark: RollupWatermark(last))
    }

    public func replayPosition() throws -> RecordLocation? {
        try rollups.watermark().map { RecordLocation(segment: $0.segment, offset: $0.offset, length: 0) }
    }

    // MARK: Rebuilding

    /// Folds the records stored after the rollups' checkpoint (all of them when `rebuild`, after clearing the
    /// rollups) and checkpoints. Returns how many records were folded.
    @discardableResult
    public func catchUp(_ store: LogStore, rebuild: Bool = false, progress: (Int) -> Void = { _ in }) throws -> Int {
        if rebuild { try rollups.reset() }
        let watermark = rebuild ? nil : try rollups.watermark()
        var last: RecordLocation?
        var folded = 0
        try store.replay(after: watermark.map { RecordLocation(segment: $0.segment, offset: $0.offset, length: 0) }) {
            entry in
            rollups.fold(RollupInput(entry))
            last = entry.location
            folded += 1
            if folded % 100_000 == 0 {
                try rollups.checkpoint(watermark: RollupWatermark(entry.location))
                progress(folded)
            }
        }
        if let last { try rollups.checkpoint(watermark: RollupWatermark(last)) }
        if rebuild { try rollups.compactAll() }
        progress(folded)
        if folded > 0 {
            logger.info("rollups caught up", metadata: ["records": "\(folded)", "rebuild": "\(rebuild)"])
        }
        return folded
    }

    // MARK: Repricing

    /// What a reprice did.
    public struct RepriceResult: Sendable, Equatable {
        /// Logs looked at (those priced by the price table; custom-cost logs keep their cost).
        public var examined = 0
        /// Logs whose cost changed.
        public var changed = 0
    }

    /// Recomputes, under the prices now in the table, the cost of every log of `account` created in
    /// [`from`, `to`) (Unix ms), and moves each changed cost in the index and in the rollups together: one page of
    /// `pageSize` logs per transaction, taken while the store's writer waits, so an interrupted reprice leaves every
    /// page either done or not and running it again finishes the job. `progress` gets (done, total).
    ///
    /// The result equals a fresh ingest under the new prices: the new cost is computed by the same `PriceBook`
    /// call as at ingest.
    public func reprice(
        account: String, from: Int64, to: Int64, store: LogStore, pageSize: Int = 2_000,
        progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }
    ) throws -> RepriceResult {
        let catalog = store.catalog
        let total = try catalog.repriceableLogCount(account: account, from: from, to: to)
        var result = RepriceResult()
        var after: LogID?
        while true {
            let rows = try catalog.repriceableLogs(account: account, from: from, to: to, after: after, limit: pageSize)
            guard let last = rows.last else { break }
            after = last.id
            let changes = rows.compactMap { row -> (row: LogIndexEntry, cost: Int64?)? in
                let cost = prices.cost(
                    account: account, provider: row.provider, model: row.model, usage: row.usage,
                    at: row.createdAt, customCost: nil, statusCode: row.statusCode)
                return cost == row.cost ? nil : (row, cost)
            }
            if !changes.isEmpty {
                try store.afterCommit { durable in
                    for change in changes {
                        let old = RollupInput(change.row)
                        var new = old
                        new.cost = change.cost
                        rollups.replace(old, with: new)
                    }
                    let watermark = try durable.map(RollupWatermark.init) ?? rollups.watermark()
                    try rollups.checkpoint(watermark: watermark ?? RollupWatermark(segment: 0, offset: 0)) {
                        transaction in
                        for change in changes {
                            try transaction.setLogCost(account: account, id: change.row.id, cost: change.cost)
                        }
                    }
                }
            }
            result.examined += rows.count
            result.changed += changes.count
            progress(result.examined, max(total, result.examined))
        }
        logger.info(
            "repriced",
            metadata: [
                "account": "\(account)", "from": "\(from)", "to": "\(to)", "examined": "\(result.examined)",
                "changed": "\(result.changed)",
            ])
        return result
    }
}

extension Ledger {
    /// Opens a data folder for writing, in the order pricing needs: the catalog (and its migrations), the price
    /// book (the shipped list written into it), the rollups, the ledger, then the log store, which recovers its
    /// tail and prices what it re-indexes; last, the rollups catch up with the records stored after their
    /// checkpoint. Takes the folder's lock: one writing process per folder. All of them read the store's clock
    /// (`configuration.segments.clock`).
    public static func openStore(
        directory: String, configuration: LogStore.Configuration = .init(), logger: Logger
    ) throws -> (ledger: Ledger, store: LogStore) {
        let now = configuration.segments.clock.wallMilliseconds
        let catalog = try Catalog(
            dataDirectory: directory, configuration: configuration.catalog, logger: logger, now: now)
        let prices = try PriceBook(catalog: catalog, shipped: PriceTable.shipped(), now: now)
        var rollups = RollupEngine.Configuration()
        rollups.now = now
        let ledger = Ledger(
            prices: prices, rollups: try RollupEngine(catalog: catalog, configuration: rollups), logger: logger)
        let store = try LogStore(
            directory: directory, configuration: configuration, catalog: catalog, observer: ledger, logger: logger)
        try ledger.catchUp(store)
        return (ledger, store)
    }
}

extension RollupWatermark {
    init(_ location: RecordLocation) {
        self.init(segment: location.segment, offset: location.offset)
    }
}
