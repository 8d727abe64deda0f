import Foundation
import Synchronization
import TollgateModel
import TollgateStorage

/// The prices in force: the public price list and each account's negotiated prices, kept in the catalog's `prices`
/// table and held in memory for pricing records on the ingest thread.
///
/// On open, the price list shipped in the binary is written into the table (rows entered through the API are never
/// overwritten by it), public rows from an earlier shipped list that this one no longer carries are removed (rows
/// entered through the API stay), then the whole table is loaded. Changes through `upsert`/`delete` go to the table first and
/// then replace the in-memory snapshot, so the next record indexed is priced by them; records already indexed keep
/// their cost until their period is repriced.
///
/// How a request is priced (`cost(...)`), in order:
/// 1. A `cf-aig-custom-cost` header: `total_cost` is the cost; per-token prices × `tokensIn`/`tokensOut`.
/// 2. The account's own row in force at `created_at` for the model, else the public row (`PriceTable` matching:
///    service tier, dated snapshots), priced by `CostCalculator`. A public list's dates say when a price was read,
///    not when it began, so a request older than a model's first public row is priced by that row; negotiated rows
///    apply from their date only.
/// 3. No usage reported and an error status (≥ 400) from the provider or the gateway: $0 — providers do not bill a
///    refused or failed request, and none was served.
/// 4. Otherwise (unknown model, or a 2xx response without usage, e.g. a stream cut off): nil, unpriced — never $0.
public final class PriceBook: Sendable {
    /// One row with the account it belongs to ("" = public).
    public struct Entry: Sendable, Equatable {
        public var account: String
        public var row: PriceRow
        public var origin: String
        public var updatedAt: Int64

        public init(account: String = "", row: PriceRow, origin: String = "api", updatedAt: Int64 = 0) {
            self.account = account
            self.row = row
            self.origin = origin
            self.updatedAt = updatedAt
        }
    }

    private struct Snapshot: Sendable {
        var entries: [Entry] = []
        var public_ = PriceTable([], extendsFirstRowBack: true)
        var accounts: [String: PriceTable] = [:]
    }

    private let catalog: Catalog
    private let snapshot: Mutex<Snapshot>
    private let now: @Sendable () -> Int64

    /// Opens the price book on `catalog`, first writing `shipped` (the binary's list) into it.
    public init(
        catalog: Catalog, shipped: PriceTable,
        now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }
    ) throws {
        self.catalog = catalog
        self.now = now
        self.snapshot = Mutex(Snapshot())
        let time = now()
        try catalog.write { db in
            try db.transaction {
                let statement = try db.cachedStatement(NamedQueries.sql("prices_upsert"))
                defer { statement.reset() }
                for row in shipped.allRows {
                    try Self.bind(Entry(row: row, origin: "shipped", updatedAt: time), to: statement)
                    try statement.run()
                    statement.reset()
                }
                let current = Set(
                    shipped.allRows.map { "\($0.provider)|\($0.model)|\($0.serviceTier)|\($0.effectiveFrom)" })
                let stored = try db.query(NamedQueries.sql("prices_shipped_keys")) { row in
                    (row.string(at: 0), row.string(at: 1), row.string(at: 2), row.int64(at: 3))
                }
                for key in stored where !current.contains("\(key.0)|\(key.1)|\(key.2)|\(key.3)") {
                    try db.run(
                        NamedQueries.sql("prices_delete"),
                        [.text(""), .text(key.0), .text(key.1), .text(key.2), .integer(key.3)])
                }
            }
        }
        try reload()
    }

    /// Every row, public first, then per account, each in key order.
    public var entries: [Entry] { snapshot.withLock { $0.entries } }

    /// The cost of one request in picodollars, or nil when it is unpriced (see the type's documentation).
    public func cost(
        account: String, provider: String, model: String?, usage: Usage, at createdAt: Int64,
        customCost: CustomCost?, statusCode: Int
    ) -> Int64? {
        if let customCost {
            switch customCost {
            case .total(let total): return total
            case .perToken(let input, let output):
                guard !usage.isUnknown else { return nil }
                let amount = Int128(usage.tokensIn ?? 0) * Int128(input) + Int128(usage.tokensOut ?? 0) * Int128(output)
                return Int64(exactly: amount)
            }
        }
        let tables = snapshot.withLock { ($0.public_, $0.accounts[account]) }
        var money: Money?
        if let model {
            if let own = tables.1,
                let row = own.row(provider: provider, model: model, serviceTier: usage.serviceTier, at: createdAt)
            {
                money = CostCalculator.cost(of: usage, under: row)
            } else {
                money = tables.0.cost(provider: provider, model: model, usage: usage, at: createdAt)
            }
        }
        if let money { return Int64(exactly: money.picodollars) }
        if usage.isUnknown && statusCode >= 400 { return 0 }
        return nil
    }

    /// When the provider stopped serving the model (Unix ms), from the account's rows or else the public list;
    /// nil while it is served or when no row says.
    public func retirement(account: String, provider: String, model: String) -> Int64? {
        let tables = snapshot.withLock { ($0.public_, $0.accounts[account]) }
        return tables.1?.retirement(provider: provider, model: model)
            ?? tables.0.retirement(provider: provider, model: model)
    }

    /// The cost of a record as stored.
    public func cost(of record: LogRecord) -> Int64? {
        cost(
            account: record.account, provider: record.provider, model: record.model, usage: record.usage,
            at: record.createdAt, customCost: record.customCost, statusCode: record.statusCode)
    }

    /// Adds a row, or corrects the row with the same key (account, provider, model, tier, effective_from).
    public func upsert(_ entry: Entry) throws {
        var entry = entry
        entry.origin = "api"
        entry.updatedAt = now()
        try catalog.write { db in
            let statement = try db.cachedStatement(NamedQueries.sql("prices_upsert"))
            defer { statement.reset() }
            try Self.bind(entry, to: statement)
            try statement.run()
        }
        try reload()
    }

    /// Removes a row; returns whether it existed.
    @discardableResult
    public func delete(
        account: String, provider: String, model: String, serviceTier: String, effectiveFrom: Int64
    ) throws -> Bool {
        let removed = try catalog.write { db in
            try db.run(
                NamedQueries.sql("prices_delete"),
                [.text(account), .text(provider), .text(model), .text(serviceTier), .integer(effectiveFrom)])
        }
        try reload()
        return removed > 0
    }

    /// Reads the whole table into a new snapshot.
    public func reload() throws {
        let entries = try catalog.read { db in
            try db.query(NamedQueries.sql("prices_all")) { row in try Self.entry(from: row) }
        }
        var next = Snapshot()
        next.entries = entries
        next.public_ = PriceTable(entries.filter { $0.account.isEmpty }.map(\.row), extendsFirstRowBack: true)
        var byAccount: [String: [PriceRow]] = [:]
        for entry in entries where !entry.account.isEmpty { byAccount[entry.account, default: []].append(entry.row) }
        next.accounts = byAccount.mapValues { PriceTable($0) }
        snapshot.withLock { $0 = next }
    }

    // MARK: Rows ↔ SQL

    private static func bind(_ entry: Entry, to statement: SQLiteStatement) throws {
        let row = entry.row
        func rate(_ money: Money?) -> Int64? { money.flatMap { Int64(exactly: $0.picodollars) } }
        try statement.bind(entry.account, at: 1)
        try statement.bind(row.provider, at: 2)
        try statement.bind(row.model, at: 3)
        try statement.bind(row.serviceTier, at: 4)
        try statement.bind(row.effectiveFrom, at: 5)
        try statement.bind(rate(row.rates.input), at: 6)
        try statement.bind(rate(row.rates.output), at: 7)
        try statement.bind(rate(row.rates.cachedInput), at: 8)
        try statement.bind(rate(row.rates.cacheWrite5m), at: 9)
        try statement.bind(rate(row.rates.cacheWrite1h), at: 10)
        try statement.bind(rate(row.rates.reasoning), at: 11)
        try statement.bind(rate(row.batchInput), at: 12)
        try statement.bind(rate(row.batchOutput), at: 13)
        try statement.bind(row.promptThreshold, at: 14)
        try statement.bind(rate(row.ratesAbove?.input), at: 15)
        try statement.bind(rate(row.ratesAbove?.output), at: 16)
        try statement.bind(rate(row.ratesAbove?.cachedInput), at: 17)
        try statement.bind(rate(row.ratesAbove?.cacheWrite5m), at: 18)
        try statement.bind(rate(row.ratesAbove?.cacheWrite1h), at: 19)
        try statement.bind(row.source, at: 20)
        try statement.bind(entry.origin, at: 21)
        try statement.bind(entry.updatedAt, at: 22)
        try statement.bind(rate(row.rates.cacheWrite), at: 23)
        try statement.bind(rate(row.ratesAbove?.cacheWrite), at: 24)
        try statement.bind(rate(row.batchCachedInput), at: 25)
        try statement.bind(rate(row.batchInputAbove), at: 26)
        try statement.bind(rate(row.batchOutputAbove), at: 27)
        try statement.bind(rate(row.batchCachedInputAbove), at: 28)
        try statement.bind(rate(row.requestFee), at: 29)
        try statement.bind(row.retired, at: 30)
        try statement.bind(row.retrieved, at: 31)
    }

    private static func entry(from row: SQLiteStatement) throws -> Entry {
        func money(_ index: Int) -> Money? { row.optionalInt64(at: index).map { Money(picodollars: Int128($0)) } }
        var above: PriceRow.Rates?
        if let input = money(14), let output = money(15) {
            above = PriceRow.Rates(
                input: input, output: output, cachedInput: money(16), cacheWrite: money(23), cacheWrite5m: money(17),
                cacheWrite1h: money(18))
        }
        let priceRow = PriceRow(
            provider: row.string(at: 1), model: row.string(at: 2), serviceTier: row.string(at: 3),
            effectiveFrom: row.int64(at: 4),
            rates: PriceRow.Rates(
                input: money(5) ?? .zero, output: money(6) ?? .zero, cachedInput: money(7), cacheWrite: money(22),
                cacheWrite5m: money(8), cacheWrite1h: money(9), reasoning: money(10)),
            promptThreshold: row.optionalInt64(at: 13), ratesAbove: above, batchInput: money(11),
            batchOutput: money(12), batchCachedInput: money(24), batchInputAbove: money(25),
            batchOutputAbove: money(26), batchCachedInputAbove: money(27), requestFee: money(28),
            retired: row.optionalInt64(at: 29), source: row.string(at: 19), retrieved: row.string(at: 30))
        return Entry(
            account: row.string(at: 0), row: priceRow, origin: row.string(at: 20), updatedAt: row.int64(at: 21))
    }
}
