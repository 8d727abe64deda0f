import Foundation
import Testing
import TollgateModel

@testable import TollgateAnalytics

/// Exact costs, computed by hand in each test from the rates it sets.
@Suite struct PricingTests {
    func usd(_ text: String) -> Money { Money(usd: text)! }
    func rate(_ perMillion: String) -> Money { PriceRow.perToken(usdPerMillion: perMillion)! }
    let nov1 = RFC3339.parse("2026-11-01T00:00:00Z")!
    let nov15 = RFC3339.parse("2026-11-15T00:00:00Z")!

    @Test func moneyIsExactDecimal() {
        #expect(usd("0.1") + usd("0.2") == usd("0.3"))
        #expect(usd("1.25").usd == "1.25")
        #expect(usd("-0.000000000001").usd == "-0.000000000001")
        #expect(Money(usd: "0.0000000000001") == nil)  // finer than a picodollar
        #expect(Money(usd: "1.2.3") == nil)
        #expect(Money(usd: "") == nil)
        #expect(Money(usd: "1.") == nil)
        #expect(rate("0.15") == Money(picodollars: 150_000))  // $0.15 per 1M tokens = 150,000 pico$ per token
        #expect(PriceRow.perToken(usdPerMillion: "0.0000001") == nil)  // more than six decimals
    }

    @Test func openAIStyleCachedTokensArePartOfInput() {
        // gpt-x: $1.25 in, $10 out, $0.125 cached. 1,000 prompt tokens of which 400 cached; 300 out of which 100 reasoning.
        let row = PriceRow(
            provider: "openai", model: "gpt-x", effectiveFrom: 0,
            rates: .init(input: rate("1.25"), output: rate("10"), cachedInput: rate("0.125")))
        let usage = Usage(tokensIn: 1000, cachedTokensIn: 400, tokensOut: 300, reasoningTokens: 100)
        // 600 × 1.25/1M + 400 × 0.125/1M + 300 × 10/1M = 0.00075 + 0.00005 + 0.003 = 0.0038
        #expect(CostCalculator.cost(of: usage, under: row) == usd("0.0038"))
    }

    @Test func anthropicCacheReadsAndWritesByTTL() {
        // $3 in, $15 out, $0.30 read, $3.75 5-minute write, $6 1-hour write.
        let row = PriceRow(
            provider: "anthropic", model: "claude-x", effectiveFrom: 0,
            rates: .init(
                input: rate("3"), output: rate("15"), cachedInput: rate("0.30"), cacheWrite5m: rate("3.75"),
                cacheWrite1h: rate("6")))
        // input_tokens 100, cache read 2,000, cache creation 1,000 (of which 1h: 400) → tokens_in 3,100; 50 out.
        let usage = Usage(
            tokensIn: 3100, cachedTokensIn: 2000, cacheWriteTokens: 1000, cacheWrite1hTokens: 400, tokensOut: 50)
        // 100×3 + 2000×0.30 + 600×3.75 + 400×6 + 50×15 = 300 + 600 + 2250 + 2400 + 750 = 6300 → $0.0063
        #expect(CostCalculator.cost(of: usage, under: row) == usd("0.0063"))
        // Without the TTL split every write is a 5-minute write: 1000 × 3.75 = 3750 → 300+600+3750+750 = 5400.
        let unsplit = Usage(tokensIn: 3100, cachedTokensIn: 2000, cacheWriteTokens: 1000, tokensOut: 50)
        #expect(CostCalculator.cost(of: unsplit, under: row) == usd("0.0054"))
    }

    @Test func promptLengthBandPricesEveryTokenOnBothSidesOfTheThreshold() {
        let row = PriceRow(
            provider: "google-ai-studio", model: "gemini-x", effectiveFrom: 0,
            rates: .init(input: rate("1.25"), output: rate("10")), promptThreshold: 200_000,
            ratesAbove: .init(input: rate("2.5"), output: rate("15")))
        // At the threshold: base rates. 200,000 × 1.25 + 1,000 × 10 = 250,000 + 10,000 = 260,000 → $0.26
        #expect(CostCalculator.cost(of: Usage(tokensIn: 200_000, tokensOut: 1000), under: row) == usd("0.26"))
        // One token above: every token at the higher band. 200,001 × 2.5 + 1,000 × 15 = 500,002.5 + 15,000
        #expect(CostCalculator.cost(of: Usage(tokensIn: 200_001, tokensOut: 1000), under: row) == usd("0.5150025"))
    }

    @Test func unknownTokensOrModelsAreUnpricedNeverZero() {
        let table = PriceTable([
            PriceRow(
                provider: "openai", model: "gpt-x", effectiveFrom: 0, rates: .init(input: rate("1"), output: rate("2")))
        ])
        #expect(table.cost(provider: "openai", model: "gpt-x", usage: Usage(), at: nov1) == nil)
        #expect(
            table.cost(provider: "openai", model: "gpt-y", usage: Usage(tokensIn: 1, tokensOut: 1), at: nov1) == nil)
        #expect(table.cost(provider: "openai", model: nil, usage: Usage(tokensIn: 1, tokensOut: 1), at: nov1) == nil)
        #expect(table.cost(provider: "groq", model: "gpt-x", usage: Usage(tokensIn: 1, tokensOut: 1), at: nov1) == nil)
        #expect(
            table.cost(provider: "openai", model: "gpt-x", usage: Usage(tokensIn: 0, tokensOut: 0), at: nov1) == .zero)
    }

    @Test func theRowInForceAtCreatedAtPrices() {
        let table = PriceTable([
            PriceRow(
                provider: "openai", model: "gpt-x", effectiveFrom: nov1,
                rates: .init(input: rate("2"), output: rate("8"))),
            PriceRow(
                provider: "openai", model: "gpt-x", effectiveFrom: nov15,
                rates: .init(input: rate("1"), output: rate("4"))),
        ])
        let usage = Usage(tokensIn: 1_000_000, tokensOut: 1_000_000)
        #expect(table.cost(provider: "openai", model: "gpt-x", usage: usage, at: nov1 - 1) == nil)  // before any price
        #expect(table.cost(provider: "openai", model: "gpt-x", usage: usage, at: nov1) == usd("10"))
        #expect(table.cost(provider: "openai", model: "gpt-x", usage: usage, at: nov15 - 1) == usd("10"))
        #expect(table.cost(provider: "openai", model: "gpt-x", usage: usage, at: nov15) == usd("5"))
    }

    @Test func serviceTierRowsApplyWhenTheResponseReportsTheTier() {
        let table = PriceTable([
            PriceRow(
                provider: "openai", model: "gpt-x", effectiveFrom: 0, rates: .init(input: rate("2"), output: rate("8"))),
            PriceRow(
                provider: "openai", model: "gpt-x", serviceTier: "flex", effectiveFrom: 0,
                rates: .init(input: rate("1"), output: rate("4"))),
        ])
        func cost(_ tier: String?) -> Money? {
            table.cost(
                provider: "openai", model: "gpt-x", usage: Usage(tokensIn: 1_000_000, tokensOut: 0, serviceTier: tier),
                at: nov1)
        }
        #expect(cost("flex") == usd("1"))
        #expect(cost("default") == usd("2"))
        #expect(cost("priority") == usd("2"))  // no priority row: the default row prices it
        #expect(cost(nil) == usd("2"))
    }

    @Test func datedSnapshotsPriceAsTheirBaseModel() {
        #expect(PriceTable.withoutDateSuffix("gpt-4o-mini-2024-07-18") == "gpt-4o-mini")
        #expect(PriceTable.withoutDateSuffix("claude-sonnet-4-5-20250929") == "claude-sonnet-4-5")
        #expect(PriceTable.withoutDateSuffix("gpt-4-0613") == "gpt-4")
        #expect(PriceTable.withoutDateSuffix("gpt-4o-mini") == nil)
        #expect(PriceTable.withoutDateSuffix("claude-sonnet-4-5") == nil)
        #expect(PriceTable.candidates(for: "models/gemini-x") == ["models/gemini-x", "gemini-x"])
        let table = PriceTable([
            PriceRow(
                provider: "openai", model: "gpt-4o-mini", effectiveFrom: 0,
                rates: .init(input: rate("0.15"), output: rate("0.6")))
        ])
        #expect(table.row(provider: "openai", model: "gpt-4o-mini-2024-07-18", at: nov1)?.model == "gpt-4o-mini")
        #expect(table.row(provider: "openai", model: "gpt-4o", at: nov1) == nil)  // no guessing from similar names
    }

    /// A CSV line with the named cells set, the others empty.
    static func line(_ cells: [String: String]) -> String {
        PriceTable.columns.map { cells[$0] ?? "" }.joined(separator: ",")
    }
    static let header = PriceTable.columns.joined(separator: ",")
    static let goodCells = [
        "provider": "openai", "model": "gpt-x", "service_tier": "default", "effective_from": "2026-11-01",
        "input": "1.25", "output": "10", "cached_input": "0.125", "source": "https://example.invalid",
        "retrieved": "2026-11-25",
    ]

    @Test func csvErrorsNameTheLine() {
        let good = Self.line(Self.goodCells)
        #expect(throws: Never.self) { try PriceTable(csv: Self.header + "\n" + good + "\n") }
        var badCells = Self.goodCells
        badCells["output"] = "ten"
        #expect(throws: PriceTable.CSVError(line: 3, message: "output: not a price in USD per 1M tokens: ten")) {
            try PriceTable(csv: Self.header + "\n" + good + "\n" + Self.line(badCells))
        }
        var noAbove = Self.goodCells
        noAbove["prompt_threshold"] = "200000"
        #expect(throws: PriceTable.CSVError.self) { try PriceTable(csv: Self.header + "\n" + Self.line(noAbove)) }
        var bothWrites = Self.goodCells
        bothWrites["cache_write"] = "1.5"
        bothWrites["cache_write_5m"] = "1.5"
        #expect(throws: PriceTable.CSVError.self) { try PriceTable(csv: Self.header + "\n" + Self.line(bothWrites)) }
        var badRetired = Self.goodCells
        badRetired["retired"] = "soon"
        #expect(throws: PriceTable.CSVError(line: 2, message: "retired: expected YYYY-MM-DD")) {
            try PriceTable(csv: Self.header + "\n" + Self.line(badRetired))
        }
    }

    @Test func anEmbeddingRowWithoutAnOutputPriceBillsInputTokensOnly() throws {
        let header = Self.header
        func line(input: String, output: String) -> String {
            Self.line([
                "provider": "openai", "model": "text-embedding-x", "service_tier": "default",
                "effective_from": "2026-11-01", "input": input, "output": output, "source": "https://example.invalid",
                "retrieved": "2026-11-25",
            ])
        }
        // Embedding price lists print one price: $0.02 per 1M input tokens, the output cell is empty.
        let table = try PriceTable(csv: header + "\n" + line(input: "0.02", output: "") + "\n")
        #expect(table.row(provider: "openai", model: "text-embedding-x", at: nov15)?.rates.output == .zero)
        func cost(_ usage: Usage) -> Money? {
            table.cost(provider: "openai", model: "text-embedding-x", usage: usage, at: nov15)
        }
        // 8 input tokens × $0.02 / 1M = $0.00000016; 0 output tokens.
        #expect(cost(Usage(tokensIn: 8, tokensOut: 0)) == usd("0.00000016"))
        // 1,000 input × 0.02 = 20 µ$; the 50 output tokens (were any reported) bill nothing.
        #expect(cost(Usage(tokensIn: 1000, tokensOut: 50)) == usd("0.00002"))
        // An empty input is still rejected, with or without an output price.
        #expect(throws: PriceTable.CSVError(line: 2, message: "input is required")) {
            try PriceTable(csv: header + "\n" + line(input: "", output: "0.02"))
        }
        #expect(throws: PriceTable.CSVError(line: 2, message: "input is required")) {
            try PriceTable(csv: header + "\n" + line(input: "", output: ""))
        }
    }

    @Test func theShippedPriceListParsesCompletely() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/TollgateAnalytics/Pricing/prices.csv")
        let text = try String(contentsOf: url, encoding: .utf8)
        let table = try PriceTable(csv: text)
        let dataLines = text.split(whereSeparator: \.isNewline).dropFirst().filter { !$0.allSatisfy(\.isWhitespace) }
        #expect(table.count == dataLines.count)
        for line in dataLines { #expect(line.contains("https://"), "row without a source: \(line)") }
        // Sources, read dates, one row per key, complete bands: what `audit` checks, the shipped list passes.
        #expect(PriceTable.audit(csv: text) == [])
    }

    /// The shipped list as rows of named cells (the loader has already validated every price).
    func shippedRows() throws -> [[String: String]] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/TollgateAnalytics/Pricing/prices.csv")
        let lines = try String(contentsOf: url, encoding: .utf8).split(whereSeparator: \.isNewline)
            .filter { !$0.allSatisfy(\.isWhitespace) }
        let names = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return lines.dropFirst().map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return Dictionary(uniqueKeysWithValues: zip(names, cells))
        }
    }

    @Test func theShippedPriceListCoversEveryProviderAndHasOneRowPerKey() throws {
        let rows = try shippedRows()
        // Every provider the proxy supports has rows, except those PRICES.md lists as a gap (no price page of the
        // provider's own could be read). A gap provider that gains rows must leave this list.
        let providers = [
            "openai", "anthropic", "google-ai-studio", "groq", "mistral", "deepseek", "perplexity-ai", "grok",
            "cohere", "cerebras", "huggingface", "workers-ai", "azure-openai", "google-vertex-ai", "aws-bedrock",
        ]
        let documentedGaps: Set<String> = [
            "cohere", "huggingface", "azure-openai", "google-vertex-ai", "aws-bedrock",
        ]
        for provider in providers {
            let count = rows.filter { $0["provider"] == provider }.count
            if documentedGaps.contains(provider) {
                #expect(count == 0, "\(provider) has rows: remove it from the documented gaps")
            } else {
                #expect(count > 0, "no rows for \(provider)")
            }
        }
        for row in rows { #expect(providers.contains(row["provider"] ?? ""), "unknown provider: \(row)") }
        // One row per (provider, model, tier, effective_from): a duplicate would make the price in force ambiguous.
        var seen: Set<String> = []
        for row in rows {
            let key = ["provider", "model", "service_tier", "effective_from"].map { row[$0] ?? "" }.joined(
                separator: "|")
            #expect(seen.insert(key).inserted, "duplicate row: \(key)")
        }
        for row in rows {
            #expect(["default", "flex", "priority"].contains(row["service_tier"] ?? ""), "tier: \(row)")
            #expect(RFC3339.parse((row["retrieved"] ?? "") + "T00:00:00Z") != nil, "retrieved date: \(row)")
            #expect(row["source"]?.hasPrefix("https://") == true, "source: \(row)")
            #expect(row["model"]?.contains(" ") == false, "model ids carry no spaces: \(row)")
        }
    }

    @Test func theShippedGeminiProLongPromptBandPricesTheWholeRequest() throws {
        let table = try PriceTable.shipped()
        let at = RFC3339.parse("2026-11-25T00:00:00Z")!
        // gemini-2.5-pro: $1.25 / $10 up to 200,000 prompt tokens, $2.50 / $15 above, for every token.
        let short = Usage(tokensIn: 200_000, tokensOut: 1000)
        let long = Usage(tokensIn: 200_001, tokensOut: 1000)
        // 200,000 × 1.25 + 1,000 × 10 = 260,000 µ$ → $0.26
        #expect(table.cost(provider: "google-ai-studio", model: "gemini-2.5-pro", usage: short, at: at) == usd("0.26"))
        // 200,001 × 2.50 + 1,000 × 15 = 515,002.5 µ$
        #expect(
            table.cost(provider: "google-ai-studio", model: "gemini-2.5-pro", usage: long, at: at) == usd("0.5150025"))
        // models/ prefix (Gemini) and the flex tier: 100,000 input tokens × $0.625 per 1M = $0.0625.
        let flex = Usage(tokensIn: 100_000, tokensOut: 0, serviceTier: "flex")
        #expect(
            table.cost(provider: "google-ai-studio", model: "models/gemini-2.5-pro", usage: flex, at: at)
                == usd("0.0625"))
    }

    @Test func theShippedXAIBandStartsWhenThePromptReaches200kTokens() throws {
        let table = try PriceTable.shipped()
        let at = RFC3339.parse("2026-12-03T12:00:00Z")!
        // grok-4.3: $1.25 / $2.50, reads $0.20 below 200,000 prompt tokens; $2.50 / $5.00, reads $0.40 from
        // 200,000 on ("reaches 200k"), for every token; Batch 20% off.
        let below = Usage(tokensIn: 199_999, tokensOut: 1000)
        // 199,999 × 1.25 + 1,000 × 2.50 = 252,498.75 µ$
        #expect(table.cost(provider: "grok", model: "grok-4.3", usage: below, at: at) == usd("0.25249875"))
        let reaches = Usage(tokensIn: 200_000, cachedTokensIn: 100_000, tokensOut: 1000)
        // 100,000 × 2.50 + 100,000 × 0.40 + 1,000 × 5.00 = 295,000 µ$
        #expect(table.cost(provider: "grok", model: "grok-4.3", usage: reaches, at: at) == usd("0.295"))
        let batch = Usage(tokensIn: 100_000, tokensOut: 1000, serviceTier: "batch")
        // 100,000 × 1.00 + 1,000 × 2.00 = 102,000 µ$
        #expect(table.cost(provider: "grok", model: "grok-4.3", usage: batch, at: at) == usd("0.102"))
        // grok-4.20-0309-reasoning: the model page read on 2026-12-03 prices it at $1.25 / $2.50; the earlier
        // row ($2 / $6) keeps pricing the requests before that day.
        let small = Usage(tokensIn: 1000, tokensOut: 1000)
        let before = RFC3339.parse("2026-12-02T12:00:00Z")!
        #expect(
            table.cost(provider: "grok", model: "grok-4.20-0309-reasoning", usage: small, at: before) == usd("0.008"))
        #expect(table.cost(provider: "grok", model: "grok-4.20-0309-reasoning", usage: small, at: at) == usd("0.00375"))
    }

    @Test func theShippedCerebrasRowPricesGptOss120bFromItsModelCard() throws {
        let table = try PriceTable.shipped()
        let at = RFC3339.parse("2026-12-03T12:00:00Z")!
        // gpt-oss-120b on Cerebras: $0.35 input / $0.75 output per 1M tokens (model card); no cached-input price
        // is printed, so cache reads bill at the input rate.
        let usage = Usage(tokensIn: 100_000, cachedTokensIn: 20_000, tokensOut: 10_000)
        // 100,000 × 0.35 + 10,000 × 0.75 = 42,500 µ$
        #expect(table.cost(provider: "cerebras", model: "gpt-oss-120b", usage: usage, at: at) == usd("0.0425"))
        // Models without a row stay unpriced (nil), never $0.
        #expect(table.cost(provider: "cerebras", model: "llama3.1-8b", usage: usage, at: at) == nil)
    }
}
