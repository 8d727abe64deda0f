import Foundation
import Testing
import TollgateModel
import TollgateStorage

@testable import TollgateAnalytics

/// The price structures of today's price lists — prompt-length bands over every token class, OpenAI cache writes,
/// Batch rates, per-request fees, retirement — and the checks the shipped list must pass.
@Suite struct PriceStructureTests {
    func usd(_ text: String) -> Money { Money(usd: text)! }
    func rate(_ perMillion: String) -> Money { PriceRow.perToken(usdPerMillion: perMillion)! }
    let now = RFC3339.parse("2026-12-03T00:00:00Z")!

    // MARK: Checks of a price list

    func csv(_ rows: [[String: String]]) -> String {
        ([PricingTests.header] + rows.map(PricingTests.line)).joined(separator: "\n") + "\n"
    }

    @Test func theAuditFindsRowsWithoutSourceOrReadDateOverlapsAndIncompleteBands() {
        let good = PricingTests.goodCells
        #expect(PriceTable.audit(csv: csv([good])) == [])

        var noSource = good
        noSource["source"] = ""
        #expect(PriceTable.audit(csv: csv([noSource])).contains { $0.contains("no source URL") })
        var noDate = good
        noDate["retrieved"] = ""
        #expect(PriceTable.audit(csv: csv([noDate])).contains { $0.contains("no read date") })

        // The same (provider, model, tier, effective_from) twice: ambiguous. Another tier or date is not.
        var flex = good
        flex["service_tier"] = "flex"
        var later = good
        later["effective_from"] = "2026-12-01"
        #expect(PriceTable.audit(csv: csv([good, flex, later])) == [])
        let overlap = PriceTable.audit(csv: csv([good, flex, good]))
        #expect(overlap.count == 1 && overlap[0].contains("overlaps line 2"))

        // A band must price above it every class priced below it: here cache reads and 1-hour writes.
        var band = good
        band.merge(
            [
                "prompt_threshold": "200000", "input_above": "2.5", "output_above": "15", "cache_write_5m": "1.5",
                "cache_write_5m_above": "3", "cache_write_1h": "2", "cached_input": "0.125",
            ]) { $1 }
        let incomplete = PriceTable.audit(csv: csv([band]))
        #expect(incomplete.count == 2, "\(incomplete)")
        #expect(incomplete.contains { $0.contains("without cached_input_above") })
        #expect(incomplete.contains { $0.contains("without cache_write_1h_above") })
        band["cached_input_above"] = "0.25"
        band["unconfirmed"] = "cache_write_1h_above"  // an empty cell PRICES.md accounts for
        #expect(PriceTable.audit(csv: csv([band])) == [])
        band["unconfirmed"] = "cache_write_2h"
        #expect(PriceTable.audit(csv: csv([band])).count == 2)
        // A malformed cell is a problem too, not a crash.
        var bad = good
        bad["input"] = "1.2.3"
        #expect(PriceTable.audit(csv: csv([bad])).count == 1)
    }

    // MARK: Bands, cache writes, batch

    /// A Haiku-5.5-shaped row: $0.10 / $0.50, reads $0.01, writes $0.125 (5m) / $0.20 (1h) up to 100,000 prompt
    /// tokens; $0.50 / $2.50, reads $0.05, writes $0.625 / $1.00 above.
    var banded: PriceRow {
        PriceRow(
            provider: "anthropic", model: "claude-x", effectiveFrom: 0,
            rates: .init(
                input: rate("0.10"), output: rate("0.50"), cachedInput: rate("0.01"), cacheWrite5m: rate("0.125"),
                cacheWrite1h: rate("0.20")),
            promptThreshold: 100_000,
            ratesAbove: .init(
                input: rate("0.50"), output: rate("2.50"), cachedInput: rate("0.05"), cacheWrite5m: rate("0.625"),
                cacheWrite1h: rate("1.00")))
    }

    @Test func everyTokenClassTakesItsBandOnBothSidesOfTheThreshold() {
        // 100,000 prompt tokens: 60,000 cache reads, 30,000 writes (10,000 of them 1h), 10,000 plain; 2,000 out.
        let below = Usage(
            tokensIn: 100_000, cachedTokensIn: 60_000, cacheWriteTokens: 30_000, cacheWrite1hTokens: 10_000,
            tokensOut: 2_000)
        // 10,000×0.10 + 60,000×0.01 + 20,000×0.125 + 10,000×0.20 + 2,000×0.50 (µ$)
        // = 1,000 + 600 + 2,500 + 2,000 + 1,000 = 7,100 µ$
        #expect(CostCalculator.cost(of: below, under: banded) == usd("0.0071"))
        // One more plain token crosses the band: every token at the higher rates.
        var above = below
        above.tokensIn = 100_001
        // 10,001×0.50 + 60,000×0.05 + 20,000×0.625 + 10,000×1.00 + 2,000×2.50
        // = 5,000.5 + 3,000 + 12,500 + 10,000 + 5,000 = 35,500.5 µ$
        #expect(CostCalculator.cost(of: above, under: banded) == usd("0.0355005"))
    }

    @Test func openAICacheWritesArePartOfThePromptAndTakeTheirBand() {
        // gpt-6.2-sol-shaped: $2 / $10, reads $0.10, writes $2.50; above 272,000: $4 / $15, $0.20, $5.
        let row = PriceRow(
            provider: "openai", model: "gpt-x", effectiveFrom: 0,
            rates: .init(input: rate("2"), output: rate("10"), cachedInput: rate("0.10"), cacheWrite: rate("2.50")),
            promptThreshold: 272_000,
            ratesAbove: .init(input: rate("4"), output: rate("15"), cachedInput: rate("0.20"), cacheWrite: rate("5")))
        let usage = Usage(tokensIn: 10_000, cachedTokensIn: 4_000, cacheWriteTokens: 5_000, tokensOut: 100)
        // 1,000×2 + 4,000×0.10 + 5,000×2.50 + 100×10 = 2,000 + 400 + 12,500 + 1,000 = 15,900 µ$
        #expect(CostCalculator.cost(of: usage, under: row) == usd("0.0159"))
        let long = Usage(tokensIn: 300_000, cachedTokensIn: 200_000, cacheWriteTokens: 50_000, tokensOut: 100)
        // 50,000×4 + 200,000×0.20 + 50,000×5 + 100×15 = 200,000 + 40,000 + 250,000 + 1,500 = 491,500 µ$
        #expect(CostCalculator.cost(of: long, under: row) == usd("0.4915"))
        // Without a write price the writes cost the input rate, as before.
        var plain = row
        plain.rates.cacheWrite = nil
        // 1,000×2 + 400 + 5,000×2 + 1,000 = 13,400 µ$
        #expect(CostCalculator.cost(of: usage, under: plain) == usd("0.0134"))
    }

    @Test func aRecordInTheBatchTierPaysTheBatchRatesOfItsBand() {
        var row = banded
        row.batchInput = rate("0.05")
        row.batchOutput = rate("0.25")
        row.batchCachedInput = rate("0.005")
        row.batchInputAbove = rate("0.25")
        row.batchOutputAbove = rate("1.25")
        let usage = Usage(tokensIn: 1_000, cachedTokensIn: 400, tokensOut: 100, serviceTier: "batch")
        // 600×0.05 + 400×0.005 + 100×0.25 = 30 + 2 + 25 = 57 µ$
        #expect(CostCalculator.cost(of: usage, under: row) == usd("0.000057"))
        var long = usage
        long.tokensIn = 200_000
        // No batch cached rate above the band: reads at the batch input rate. 200,000×0.25 + 100×1.25 = 50,125 µ$
        #expect(CostCalculator.cost(of: long, under: row) == usd("0.050125"))
        // A row without Batch prices prices a batch record at its standard rates.
        // 600×0.10 + 400×0.01 + 100×0.50 = 60 + 4 + 50 = 114 µ$
        #expect(CostCalculator.cost(of: usage, under: banded) == usd("0.000114"))
    }

    @Test func requestFeesAreRecordedPerThousandRequestsAndNotPartOfATokenCost() throws {
        #expect(PriceRow.perRequest(usdPerThousand: "5") == usd("0.005"))
        #expect(PriceRow.perRequest(usdPerThousand: "0.000000001") == Money(picodollars: 1))
        #expect(PriceRow.perRequest(usdPerThousand: "0.0000000001") == nil)
        var cells = PricingTests.goodCells
        cells["request_fee"] = "12"
        let table = try PriceTable(csv: csv([cells]))
        let row = try #require(table.row(provider: "openai", model: "gpt-x", at: now))
        #expect(row.requestFee == usd("0.012"))
        // 1,000×1.25 + 0 out = 1,250 µ$: the fee is not added (no record reports a fee-bearing event).
        #expect(CostCalculator.cost(of: Usage(tokensIn: 1_000, tokensOut: 0), under: row) == usd("0.00125"))
    }

    @Test func aRetiredModelKeepsItsRowsAndItsRetirementDate() throws {
        var old = PricingTests.goodCells
        old["retired"] = "2026-11-30"
        var flex = old
        flex["service_tier"] = "flex"
        flex["retired"] = "2026-11-15"
        let table = try PriceTable(csv: csv([old, flex, PricingTests.goodCells.merging(["model": "gpt-y"]) { $1 }]))
        let retired = RFC3339.parse("2026-11-15T00:00:00Z")!
        #expect(table.retirement(provider: "openai", model: "gpt-x") == retired)
        #expect(table.retirement(provider: "openai", model: "gpt-x-2026-01-01") == retired)  // a dated snapshot
        #expect(table.retirement(provider: "openai", model: "gpt-y") == nil)
        #expect(table.retirement(provider: "openai", model: "gpt-z") == nil)
        // Still priced after retirement: old logs keep their cost.
        #expect(table.cost(provider: "openai", model: "gpt-x", usage: Usage(tokensIn: 1, tokensOut: 0), at: now) != nil)
    }

    // MARK: The shipped list

    /// The shipped rows of a model, from the CSV text.
    func shipped(_ provider: String, _ model: String) throws -> [[String: String]] {
        try FixtureCostTests.priceRows().filter { $0["provider"] == provider && $0["model"] == model }
    }

    @Test func sonnet55CacheReadsCostLessFromTheDayOfTheCut() throws {
        let table = try PriceTable.shipped()
        let rows = try shipped("anthropic", "claude-sonnet-5-5").sorted {
            $0["effective_from"]! < $1["effective_from"]!
        }
        #expect(rows.map { $0["effective_from"]! } == ["2026-09-28", "2026-10-07"])
        let usage = Usage(tokensIn: 1_000_000, cachedTokensIn: 1_000_000, tokensOut: 0)
        let before = RFC3339.parse("2026-10-06T23:59:59Z")!
        let after = RFC3339.parse("2026-10-07T00:00:00Z")!
        let fixture = FixtureCostTests.Fixture(
            name: "sonnet", provider: "anthropic", model: "claude-sonnet-5-5", status: 200, usage: usage)
        for (at, day, row) in [(before, "2026-10-06", rows[0]), (after, "2026-10-07", rows[1])] {
            let picked = try #require(FixtureCostTests.row(for: fixture, on: day, in: try FixtureCostTests.priceRows()))
            #expect(picked == row)
            let byHand = try #require(FixtureCostTests.handCost(usage, row))
            let stored = try #require(
                table.cost(provider: "anthropic", model: "claude-sonnet-5-5", usage: usage, at: at))
            #expect(Decimal(string: stored.usd) == byHand)
        }
        // 1M cache reads: $0.20 before the cut, $0.10 from 2026-10-07.
        #expect(table.cost(provider: "anthropic", model: "claude-sonnet-5-5", usage: usage, at: before) == usd("0.2"))
        #expect(table.cost(provider: "anthropic", model: "claude-sonnet-5-5", usage: usage, at: after) == usd("0.1"))
    }

    @Test func gemini4ArgonDoublesOnDecemberFirstAndEarlierRequestsKeepTheLaunchPrice() throws {
        let table = try PriceTable.shipped()
        let usage = Usage(tokensIn: 1_000_000, tokensOut: 100_000)
        func cost(_ instant: String) -> Money? {
            table.cost(
                provider: "google-ai-studio", model: "models/gemini-4-argon", usage: usage,
                at: RFC3339.parse(instant)!)
        }
        // 1M in × $2 + 100K out × $10 = $2 + $1; from 2026-12-01: 1M × $4 + 100K × $20 = $4 + $2.
        #expect(cost("2026-11-30T23:59:59Z") == usd("3"))
        #expect(cost("2026-12-01T00:00:00Z") == usd("6"))
        #expect(cost("2026-10-01T00:00:00Z") == usd("3"))
    }

    @Test func openingThePriceBookDropsShippedRowsTheListNoLongerCarries() throws {
        let directory = scratchDirectory("prices")
        let catalog = try Catalog(dataDirectory: directory)
        func row(_ model: String, _ day: String) -> PriceRow {
            PriceRow(
                provider: "openai", model: model, effectiveFrom: RFC3339.parse(day + "T00:00:00Z")!,
                rates: .init(input: rate("1"), output: rate("2")), source: "https://example.invalid",
                retrieved: "2026-11-25")
        }
        let first = try PriceBook(
            catalog: catalog, shipped: PriceTable([row("m", "2026-11-25"), row("n", "2026-11-25")]))
        try first.upsert(.init(row: row("api-only", "2026-11-25")))
        // The next list re-dates m and drops n: the old m row and n go, the API row stays.
        let second = try PriceBook(catalog: catalog, shipped: PriceTable([row("m", "2026-10-07")]))
        let keys = second.entries.map {
            "\($0.row.model)@\(RFC3339.format(milliseconds: $0.row.effectiveFrom).prefix(10))"
        }
        #expect(Set(keys) == ["m@2026-10-07", "api-only@2026-11-25"])
        #expect(second.entries.first { $0.row.model == "m" }?.row.retrieved == "2026-11-25")
    }
}
