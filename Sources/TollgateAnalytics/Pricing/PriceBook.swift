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
        /// The rows found for the models priced so far (`PriceTable.lookup`): every record is priced, and its model
        /// is nearly always one priced before. Built again after each reload, with the snapshot.
        var lookups: [LookupKey: Lookups] = [:]
        /// The last lookup, checked before hashing: consecutive records mostly share account, provider and model.
        var last: (key: LookupKey, lookups: Lookups)?

        /// The account's rows and the public rows for a model, remembered.
        mutating func lookups(account: String, provider: String, model: String, serviceTier: String?) -> Lookups {
            if let key = last?.key, key.model == model, key.provider == provider, key.account == account,
                key.serviceTier == serviceTier
            {
                return last.unsafelyUnwrapped.lookups
            }
            let key = LookupKey(account: account, provider: provider, model: model, serviceTier: serviceTier)
            let value: Lookups
            if let known = lookups[key] {
                value = known
            } else {
                value = Lookups(
                    own: accounts[account]?.lookup(provider: provider, model: model, serviceTier: serviceTier),
                    public_: public_.lookup(provider: provider, model: model, serviceTier: serviceTier))
                // Bounded: a client inventing model names cannot grow it without end.
                if lookups.count >= PriceBook.maxRememberedLookups { lookups.removeAll(keepingCapacity: true) }
                lookups[key] = value
            }
            last = (key, value)
            return value
        }
    }

    private struct LookupKey: Hashable, Sendable {
        var account: String
        var provider: String
        var model: String
        var serviceTier: String?
    }

    private struct Lookups: Sendable {
        var own: PriceTable.Lookup?
        var public_: PriceTable.Lookup
    }

    /// How many models' lookups a price book remembers before it starts again.
    static let maxRememberedLookups = 4_096

    private let catalog: Catalog
    private let snapshot: Mutex<Snapshot>
    private let now: @Sendable () -> Int64

    /// Opens the price book on `catalog`, first writing `shipped` (the binary's list) into it.
    public init(
        catalog: Catalog, shipped: PriceTable,
        now: @escaping @Sendable () -> Int64 = TollgateClock.system.wallMilliseconds
    ) throws {
        self.catalog = catalog
        self.now = now
        self.snapshot = Mutex(Snapshot())
        let time = now()
        try catalog.writeShippedPrices(
            shipped.allRows.map { Entry(row: $0, origin: "shipped", updatedAt: time).record })
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
        var money: Money?
        if let model {
            let lookups = snapshot.withLock {
                $0.lookups(account: account, provider: provider, model: model, serviceTier: usage.serviceTier)
            }
            if let own = lookups.own, let position = own.position(at: createdAt) {
                money = own.cost(of: usage, at: position)
            } else if let position = lookups.public_.position(at: createdAt) {
                money = lookups.public_.cost(of: usage, at: position)
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

    /// What a record's usage costs at the prices in force: what its provider bills, or, for a request answered from
    /// the gateway's cache, what it saved.
    public func price(of record: LogRecord) -> Int64? {
        cost(
            account: record.account, provider: record.provider, model: record.model, usage: record.usage,
            at: record.createdAt, customCost: record.customCost, statusCode: record.statusCode)
    }

    /// Adds a row, or corrects the row with the same key (account, provider, model, tier, effective_from).
    public func upsert(_ entry: Entry) throws {
        var entry = entry
        entry.origin = "api"
        entry.updatedAt = now()
        try catalog.upsertPrice(entry.record)
        try reload()
    }

    /// Removes a row; returns whether it existed.
    @discardableResult
    public func delete(
        account: String, provider: String, model: String, serviceTier: String, effectiveFrom: Int64
    ) throws -> Bool {
        let removed = try catalog.deletePrice(
            account: account, provider: provider, model: model, serviceTier: serviceTier, effectiveFrom: effectiveFrom)
        try reload()
        return removed
    }

    /// Reads the whole table into a new snapshot.
    public func reload() throws {
        let entries = try catalog.prices().map(Entry.init(_:))
        var next = Snapshot()
        next.entries = entries
        next.public_ = PriceTable(entries.filter { $0.account.isEmpty }.map(\.row), extendsFirstRowBack: true)
        var byAccount: [String: [PriceRow]] = [:]
        for entry in entries where !entry.account.isEmpty { byAccount[entry.account, default: []].append(entry.row) }
        next.accounts = byAccount.mapValues { PriceTable($0) }
        snapshot.withLock { $0 = next }
    }
}
