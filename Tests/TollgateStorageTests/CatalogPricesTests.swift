import Testing

@testable import TollgateStorage

@Suite struct CatalogPricesTests {
    /// A row with every column set to a distinct value, so a column read or bound at the wrong place shows.
    private func fullRecord(account: String = "", model: String = "gpt-4o", origin: String = "api") -> PriceRecord {
        var r = PriceRecord(
            account: account, provider: "openai", model: model, serviceTier: "default",
            effectiveFrom: 1_700_000_000_000,
            source: "https://example.com/prices", retrieved: "2026-01-02", origin: origin, updatedAt: 123)
        r.input = 1
        r.output = 2
        r.cachedInput = 3
        r.cacheWrite = 4
        r.cacheWrite5m = 5
        r.cacheWrite1h = 6
        r.reasoning = 7
        r.batchInput = 8
        r.batchOutput = 9
        r.batchCachedInput = 10
        r.promptThreshold = 11
        r.inputAbove = 12
        r.outputAbove = 13
        r.cachedInputAbove = 14
        r.cacheWriteAbove = 15
        r.cacheWrite5mAbove = 16
        r.cacheWrite1hAbove = 17
        r.batchInputAbove = 18
        r.batchOutputAbove = 19
        r.batchCachedInputAbove = 20
        r.requestFee = 21
        r.retired = 22
        return r
    }

    @Test func everyColumnComesBackAsWritten() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            let full = fullRecord(account: "default")
            var sparse = PriceRecord(
                account: "default", provider: "anthropic", model: "claude", serviceTier: "", effectiveFrom: 0)
            #expect(throws: SQLiteError.self) { try catalog.upsertPrice(sparse) }
            sparse.input = 0
            sparse.output = 0
            try catalog.upsertPrice(full)
            try catalog.upsertPrice(sparse)
            #expect(try catalog.prices() == [sparse, full])

            var changed = full
            changed.input = 100
            changed.retired = nil
            try catalog.upsertPrice(changed)
            #expect(try catalog.prices() == [sparse, changed])

            #expect(
                try catalog.deletePrice(
                    account: "default", provider: "anthropic", model: "claude", serviceTier: "", effectiveFrom: 0))
            #expect(
                !(try catalog.deletePrice(
                    account: "default", provider: "anthropic", model: "claude", serviceTier: "", effectiveFrom: 0)))
            #expect(try catalog.prices() == [changed])
        }
    }

    @Test func aShippedListReplacesTheShippedRowsItNoLongerCarriesButNotTheOthers() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            let old = fullRecord(model: "old-model", origin: "shipped")
            let kept = fullRecord(model: "gpt-4o", origin: "shipped")
            let entered = fullRecord(model: "entered", origin: "api")
            try catalog.writeShippedPrices([old, kept])
            try catalog.upsertPrice(entered)

            var corrected = kept
            corrected.output = 50
            try catalog.writeShippedPrices([corrected])
            #expect(try catalog.prices() == [entered, corrected])

            // A shipped row never overwrites one entered through the API.
            var shippedOverEntered = entered
            shippedOverEntered.origin = "shipped"
            shippedOverEntered.input = 999
            try catalog.writeShippedPrices([corrected, shippedOverEntered])
            #expect(try catalog.prices() == [entered, corrected])
        }
    }
}
