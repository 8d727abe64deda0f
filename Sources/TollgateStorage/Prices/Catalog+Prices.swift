extension Catalog {
    /// Every price row, public (account "") first, then per account, each in key order.
    public func prices() throws -> [PriceRecord] {
        try read { db in try db.query(NamedQueries.sql("prices_all"), row: Self.priceRecord(from:)) }
    }

    /// Adds a row, or replaces the row with the same key (a `shipped` row never replaces an `api` one; see
    /// `Queries/prices_upsert.sql`).
    public func upsertPrice(_ record: PriceRecord) throws {
        try write { db in try Self.upsert(record, in: db) }
    }

    /// Writes a shipped price list, in one transaction: each row as by `upsertPrice`, then the public rows from an
    /// earlier shipped list that `records` no longer carries are removed (rows entered through the API stay).
    public func writeShippedPrices(_ records: [PriceRecord]) throws {
        try write { db in
            try db.transaction {
                for record in records { try Self.upsert(record, in: db) }
                let current = Set(
                    records.map {
                        ShippedKey(provider: $0.provider, model: $0.model, tier: $0.serviceTier, from: $0.effectiveFrom)
                    })
                let stored = try db.query(NamedQueries.sql("prices_shipped_keys")) { row in
                    ShippedKey(
                        provider: row.string(at: 0), model: row.string(at: 1), tier: row.string(at: 2),
                        from: row.int64(at: 3))
                }
                for key in stored where !current.contains(key) {
                    try db.run(
                        NamedQueries.sql("prices_delete"),
                        [.text(""), .text(key.provider), .text(key.model), .text(key.tier), .integer(key.from)])
                }
            }
        }
    }

    /// Removes one price row by its key; returns whether it existed.
    @discardableResult
    public func deletePrice(
        account: String, provider: String, model: String, serviceTier: String, effectiveFrom: Int64
    ) throws -> Bool {
        try write { db in
            try db.run(
                NamedQueries.sql("prices_delete"),
                [.text(account), .text(provider), .text(model), .text(serviceTier), .integer(effectiveFrom)])
        } > 0
    }

    private struct ShippedKey: Hashable {
        var provider: String
        var model: String
        var tier: String
        var from: Int64
    }

    /// Binds the parameters of `Queries/prices_upsert.sql`.
    private static func upsert(_ r: PriceRecord, in db: SQLiteConnection) throws {
        let statement = try db.cachedStatement(NamedQueries.sql("prices_upsert"))
        defer { statement.reset() }
        try statement.bind(r.account, at: 1)
        try statement.bind(r.provider, at: 2)
        try statement.bind(r.model, at: 3)
        try statement.bind(r.serviceTier, at: 4)
        try statement.bind(r.effectiveFrom, at: 5)
        try statement.bind(r.input, at: 6)
        try statement.bind(r.output, at: 7)
        try statement.bind(r.cachedInput, at: 8)
        try statement.bind(r.cacheWrite5m, at: 9)
        try statement.bind(r.cacheWrite1h, at: 10)
        try statement.bind(r.reasoning, at: 11)
        try statement.bind(r.batchInput, at: 12)
        try statement.bind(r.batchOutput, at: 13)
        try statement.bind(r.promptThreshold, at: 14)
        try statement.bind(r.inputAbove, at: 15)
        try statement.bind(r.outputAbove, at: 16)
        try statement.bind(r.cachedInputAbove, at: 17)
        try statement.bind(r.cacheWrite5mAbove, at: 18)
        try statement.bind(r.cacheWrite1hAbove, at: 19)
        try statement.bind(r.source, at: 20)
        try statement.bind(r.origin, at: 21)
        try statement.bind(r.updatedAt, at: 22)
        try statement.bind(r.cacheWrite, at: 23)
        try statement.bind(r.cacheWriteAbove, at: 24)
        try statement.bind(r.batchCachedInput, at: 25)
        try statement.bind(r.batchInputAbove, at: 26)
        try statement.bind(r.batchOutputAbove, at: 27)
        try statement.bind(r.batchCachedInputAbove, at: 28)
        try statement.bind(r.requestFee, at: 29)
        try statement.bind(r.retired, at: 30)
        try statement.bind(r.retrieved, at: 31)
        try statement.run()
    }

    /// Reads a row of `Queries/prices_all.sql`.
    private static func priceRecord(from row: SQLiteStatement) -> PriceRecord {
        var r = PriceRecord(
            account: row.string(at: 0), provider: row.string(at: 1), model: row.string(at: 2),
            serviceTier: row.string(at: 3), effectiveFrom: row.int64(at: 4), source: row.string(at: 19),
            retrieved: row.string(at: 30), origin: row.string(at: 20), updatedAt: row.int64(at: 21))
        r.input = row.optionalInt64(at: 5)
        r.output = row.optionalInt64(at: 6)
        r.cachedInput = row.optionalInt64(at: 7)
        r.cacheWrite5m = row.optionalInt64(at: 8)
        r.cacheWrite1h = row.optionalInt64(at: 9)
        r.reasoning = row.optionalInt64(at: 10)
        r.batchInput = row.optionalInt64(at: 11)
        r.batchOutput = row.optionalInt64(at: 12)
        r.promptThreshold = row.optionalInt64(at: 13)
        r.inputAbove = row.optionalInt64(at: 14)
        r.outputAbove = row.optionalInt64(at: 15)
        r.cachedInputAbove = row.optionalInt64(at: 16)
        r.cacheWrite5mAbove = row.optionalInt64(at: 17)
        r.cacheWrite1hAbove = row.optionalInt64(at: 18)
        r.cacheWrite = row.optionalInt64(at: 22)
        r.cacheWriteAbove = row.optionalInt64(at: 23)
        r.batchCachedInput = row.optionalInt64(at: 24)
        r.batchInputAbove = row.optionalInt64(at: 25)
        r.batchOutputAbove = row.optionalInt64(at: 26)
        r.batchCachedInputAbove = row.optionalInt64(at: 27)
        r.requestFee = row.optionalInt64(at: 28)
        r.retired = row.optionalInt64(at: 29)
        return r
    }
}
