import Foundation
import Testing
import TollgateAnalytics
import TollgateModel

/// Every provider fixture priced two ways: by `PriceBook` (as ingest does), and by hand here, from the text of the
/// shipped price list with decimal arithmetic, token class by token class. They must agree to the picodollar.
struct FixtureCostTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct Fixture {
        var name: String
        var provider: String
        var model: String?
        var status: Int
        var usage: Usage
    }

    static func fixtures() throws -> [Fixture] {
        let folder = root.appendingPathComponent("Fixtures")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter {
            $0.hasSuffix(".expected.json")
        }.sorted()
        return try names.map { name in
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            let exchange = try #require(json["exchange"] as? [String: Any])
            func int(_ key: String) -> Int64? { (json[key] as? NSNumber)?.int64Value }
            return Fixture(
                name: name, provider: try #require(exchange["provider"] as? String), model: json["model"] as? String,
                status: (exchange["status"] as? Int) ?? 200,
                usage: Usage(
                    tokensIn: int("tokens_in"), cachedTokensIn: int("cached_tokens_in"),
                    cacheWriteTokens: int("cache_write_tokens"), cacheWrite1hTokens: int("cache_write_1h_tokens"),
                    tokensOut: int("tokens_out"), reasoningTokens: int("reasoning_tokens"),
                    serviceTier: json["service_tier"] as? String))
        }
    }

    /// The shipped CSV as dictionaries of column → text.
    static func priceRows() throws -> [[String: String]] {
        let text = try String(
            contentsOf: root.appendingPathComponent("Sources/TollgateAnalytics/Pricing/prices.csv"), encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return lines.map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return Dictionary(uniqueKeysWithValues: zip(header, cells))
        }
    }

    /// The row a person would pick: same provider, the model (or the model without its date suffix), the reported
    /// tier if it has rows else `default`, the latest `effective_from` not after `day` — or the earliest row when
    /// all are later (a public list's first row prices older requests).
    static func row(for f: Fixture, on day: String, in rows: [[String: String]]) -> [String: String]? {
        guard let model = f.model else { return nil }
        var names = [model]
        if let range = model.range(of: #"-(\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$"#, options: .regularExpression) {
            names.append(String(model[..<range.lowerBound]))
        }
        for name in names {
            for tier in [f.usage.serviceTier ?? "default", "default"] {
                let candidates = rows.filter {
                    $0["provider"] == f.provider && $0["model"] == name && $0["service_tier"] == tier
                }
                .sorted { $0["effective_from"]! < $1["effective_from"]! }
                if candidates.isEmpty { continue }
                return candidates.last { $0["effective_from"]! <= day } ?? candidates.first
            }
        }
        return nil
    }

    /// Cost in USD by hand, with Decimal: each token class × its USD-per-1M rate ÷ 1,000,000.
    static func handCost(_ u: Usage, _ row: [String: String]) -> Decimal? {
        guard let tokensIn = u.tokensIn, let tokensOut = u.tokensOut else { return nil }
        func rate(_ column: String) -> Decimal? {
            guard let text = row[column], !text.isEmpty else { return nil }
            return Decimal(string: text)
        }
        var suffix = ""
        if let threshold = row["prompt_threshold"].flatMap({ Int64($0) }), tokensIn > threshold { suffix = "_above" }
        var input = rate("input" + suffix)!
        var output = rate("output" + suffix) ?? 0  // empty output: no output tokens billed (embeddings)
        var cachedRate = rate("cached_input" + suffix) ?? input
        // Writes without a TTL (OpenAI `cache_write`) or 5-minute writes; 1-hour writes at their own rate.
        var write5m = rate("cache_write_5m" + suffix) ?? rate("cache_write" + suffix) ?? input
        var write1h = rate("cache_write_1h" + suffix) ?? write5m
        if u.serviceTier == "batch", let batchInput = rate("batch_input" + suffix) {
            input = batchInput
            output = rate("batch_output" + suffix) ?? 0
            cachedRate = rate("batch_cached_input" + suffix) ?? batchInput
            write5m = batchInput
            write1h = batchInput
        }
        let reasoningRate = suffix.isEmpty ? (rate("reasoning") ?? output) : output
        let cached = u.cachedTokensIn ?? 0
        let writes = u.cacheWriteTokens ?? 0
        let writes1h = u.cacheWrite1hTokens ?? 0
        let reasoning = u.reasoningTokens ?? 0
        var total = Decimal(tokensIn - cached - writes) * input
        total += Decimal(cached) * cachedRate
        total += Decimal(writes - writes1h) * write5m + Decimal(writes1h) * write1h
        total += Decimal(tokensOut - reasoning) * output + Decimal(reasoning) * reasoningRate
        return total / 1_000_000
    }

    @Test func everyFixtureCostsWhatTheListSays() throws {
        let catalogPath = scratchDirectory("fixture-cost")
        let book = try PriceBook(catalog: try .init(dataDirectory: catalogPath), shipped: PriceTable.shipped())
        let rows = try Self.priceRows()
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let today = String(RFC3339.format(milliseconds: now).prefix(10))
        var priced = 0
        for fixture in try Self.fixtures() {
            let stored = book.cost(
                account: "a", provider: fixture.provider, model: fixture.model, usage: fixture.usage, at: now,
                customCost: nil, statusCode: fixture.status)
            let expected: Decimal?
            if fixture.usage.isUnknown && fixture.status >= 400 {
                expected = 0  // a refused request is not billed
            } else if let row = Self.row(for: fixture, on: today, in: rows) {
                expected = Self.handCost(fixture.usage, row)
            } else {
                expected = nil
            }
            let storedUSD = stored.map { Decimal($0) / Decimal(sign: .plus, exponent: 12, significand: 1) }
            #expect(
                storedUSD == expected,
                "\(fixture.name): stored \(String(describing: storedUSD)), by hand \(String(describing: expected))")
            if stored != nil, !fixture.usage.isUnknown { priced += 1 }
        }
        // The fixtures span the providers; most of their models are on the list.
        #expect(priced >= 12, "only \(priced) fixtures priced")
    }
}
