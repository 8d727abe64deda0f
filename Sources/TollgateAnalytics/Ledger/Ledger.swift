import Logging
import TollgateModel
import TollgateStorage

/// What the stored records add up to, kept as they are stored: the ledger prices every record the log store
/// indexes (`PriceBook`) and, after the price table changes, reprices a period of an account's logs.
///
/// It is the log store's observer (`LogStoreObserver`): the store asks it for each record's cost on its writer
/// thread, at append and when it re-indexes a tail at recovery.
public final class Ledger: LogStoreObserver {
    public let prices: PriceBook
    let logger: Logger

    public init(prices: PriceBook, logger: Logger) {
        self.prices = prices
        self.logger = logger
    }

    // MARK: LogStoreObserver

    public func cost(of record: LogRecord) -> Int64? {
        prices.cost(of: record)
    }

    public func appended(_ entry: LogIndexEntry) {}

    public func committed(through last: RecordLocation?) throws {}

    // MARK: Repricing

    /// What a reprice did.
    public struct RepriceResult: Sendable, Equatable {
        /// Logs looked at (those priced by the price table; custom-cost logs keep their cost).
        public var examined = 0
        /// Logs whose cost changed.
        public var changed = 0
    }

    /// Recomputes, under the prices now in the table, the cost of every log of `account` created in
    /// [`from`, `to`) (Unix ms), and updates the index where it changed. Pages of `pageSize` logs, each in one
    /// transaction; `progress` is called after each page with (done, total).
    ///
    /// Safe to run while the gateway serves: new logs are priced by the new table already, and a page's updates
    /// commit together. Running it twice changes nothing the second time.
    public func reprice(
        account: String, from: Int64, to: Int64, catalog: Catalog, pageSize: Int = 2_000,
        progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }
    ) throws -> RepriceResult {
        let low = LogID.lowerBound(milliseconds: from).bytes
        let high = LogID.lowerBound(milliseconds: to).bytes
        let total = try catalog.read { db in
            try db.queryFirst(NamedQueries.sql("reprice_count"), [.text(account), .blob(low), .blob(high)]) {
                Int($0.int64(at: 0))
            } ?? 0
        }
        var result = RepriceResult()
        var after = low
        while true {
            let rows = try catalog.read { db in
                try db.query(
                    NamedQueries.sql("reprice_page"),
                    [.text(account), .blob(low), .blob(high), .blob(after), .integer(Int64(pageSize))],
                    row: { try RepriceRow(row: $0, account: account) })
            }
            guard let last = rows.last else { break }
            after = last.id
            var updates: [(id: [UInt8], cost: Int64?)] = []
            for row in rows {
                let cost = prices.cost(
                    account: account, provider: row.provider, model: row.model, usage: row.usage,
                    at: row.createdAt, customCost: nil, statusCode: row.statusCode)
                if cost != row.cost { updates.append((row.id, cost)) }
            }
            if !updates.isEmpty {
                try catalog.write { db in
                    try db.transaction {
                        for update in updates {
                            try db.run(
                                NamedQueries.sql("reprice_update"),
                                [.text(account), .blob(update.id), .integer(update.cost)])
                        }
                    }
                }
            }
            result.examined += rows.count
            result.changed += updates.count
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

/// A log as repricing reads it from the index.
struct RepriceRow {
    var id: [UInt8]
    var gateway: String
    var provider: String
    var model: String?
    var createdAt: Int64
    var statusCode: Int
    var success: Bool
    var durationMicros: Int64
    var ttftMicros: Int64?
    var usage: Usage
    var cost: Int64?

    init(row: SQLiteStatement, account: String) throws {
        id = row.blob(at: 0)
        gateway = row.string(at: 1)
        provider = row.string(at: 2)
        model = row.optionalString(at: 3)
        createdAt = row.int64(at: 4)
        statusCode = Int(row.int64(at: 5))
        success = row.int64(at: 6) != 0
        durationMicros = row.int64(at: 7)
        ttftMicros = row.optionalInt64(at: 8)
        usage = Usage(
            tokensIn: row.optionalInt64(at: 9), cachedTokensIn: row.optionalInt64(at: 10),
            cacheWriteTokens: row.optionalInt64(at: 11), cacheWrite1hTokens: row.optionalInt64(at: 12),
            tokensOut: row.optionalInt64(at: 13), reasoningTokens: row.optionalInt64(at: 14),
            serviceTier: row.optionalString(at: 15))
        cost = row.optionalInt64(at: 16)
    }
}

extension Ledger {
    /// Opens a data folder for writing, in the order pricing needs: the catalog (and its migrations), the price
    /// book (the shipped list written into it), the ledger, then the log store, which recovers its tail and prices
    /// what it re-indexes. Takes the folder's lock: one writing process per folder.
    public static func openStore(
        directory: String, configuration: LogStore.Configuration = .init(), logger: Logger
    ) throws -> (ledger: Ledger, store: LogStore) {
        let catalog = try Catalog(dataDirectory: directory, configuration: configuration.catalog, logger: logger)
        let prices = try PriceBook(catalog: catalog, shipped: PriceTable.shipped())
        let ledger = Ledger(prices: prices, logger: logger)
        let store = try LogStore(
            directory: directory, configuration: configuration, catalog: catalog, observer: ledger, logger: logger)
        return (ledger, store)
    }
}
