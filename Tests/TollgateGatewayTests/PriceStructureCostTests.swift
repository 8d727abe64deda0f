import Foundation
import Testing
import TollgateModel

/// One request per price structure, through the gateway against the mock provider, each cost computed by hand
/// with Decimal arithmetic from the text of the shipped price list (or of the row the test enters).
@Suite(.serialized) struct PriceStructureCostTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The shipped rows of a model, as column → text.
    static func shippedRows(_ provider: String, _ model: String) throws -> [[String: String]] {
        let text = try String(
            contentsOf: root.appendingPathComponent("Sources/TollgateAnalytics/Pricing/prices.csv"), encoding: .utf8)
        var lines = text.split(whereSeparator: \.isNewline).map(String.init)
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return lines.map { line in
            Dictionary(
                uniqueKeysWithValues: zip(
                    header, line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)))
        }.filter { $0["provider"] == provider && $0["model"] == model && $0["service_tier"] == "default" }
    }

    /// The row in force today: the latest `effective_from` not after today.
    static func rowInForce(_ provider: String, _ model: String) throws -> [String: String] {
        let today = String(RFC3339.format(milliseconds: Int64(Date().timeIntervalSince1970 * 1000)).prefix(10))
        let rows = try shippedRows(provider, model).filter { $0["effective_from"]! <= today }
        return try #require(rows.max { $0["effective_from"]! < $1["effective_from"]! })
    }

    /// A log's cost by hand, in picodollars: each token class × its USD-per-1M rate from the row's text, in the
    /// band of the log's prompt.
    static func handCost(_ log: [String: Any], _ row: [String: String]) throws -> Int64 {
        func count(_ key: String) -> Decimal { Decimal((log[key] as? Int64) ?? 0) }
        let tokensIn = try #require(log["tokens_in"] as? Int64)
        let above = row["prompt_threshold"].flatMap { Int64($0) }.map { tokensIn > $0 } ?? false
        let suffix = above ? "_above" : ""
        func rate(_ column: String) -> Decimal? {
            guard let text = row[column + suffix], !text.isEmpty else { return nil }
            return Decimal(string: text)
        }
        let input = try #require(rate("input"))
        let output = try #require(rate("output"))
        let read = rate("cached_input") ?? input
        let write = rate("cache_write_5m") ?? rate("cache_write") ?? input
        let write1h = rate("cache_write_1h") ?? write
        let cached = count("cached_tokens_in")
        let writes = count("cache_write_tokens")
        let writes1h = count("cache_write_1h_tokens")
        var usd = (Decimal(tokensIn) - cached - writes) * input + cached * read
        usd += (writes - writes1h) * write + writes1h * write1h + count("tokens_out") * output
        // USD per 1M tokens → picodollars: × 10¹² / 10⁶.
        return NSDecimalNumber(decimal: usd * 1_000_000).int64Value
    }

    /// Runs `body` against a fresh gateway, which is stopped afterwards whether or not `body` throws.
    static func withGateway(_ body: (GatewayHarness) async throws -> Void) async throws {
        let harness = try await GatewayHarness.start()
        do {
            try await body(harness)
        } catch {
            try? await harness.stop()
            throw error
        }
        try await harness.stop()
    }

    static func messages(_ model: String) -> Data {
        Data(
            #"{"model":"\#(model)","max_tokens":64,"messages":[{"role":"user","content":"summarise the cached document"}]}"#
                .utf8)
    }

    @Test func haiku55PromptsBelowAndAboveTheBandWithCacheReadsAndBothWriteTTLs() async throws {
        try await Self.withGateway { harness in
            let row = try Self.rowInForce("anthropic", "claude-haiku-5-5")
            #expect(row["prompt_threshold"] == "100000")
            for usage in [
                "input=90000, cached=50000, cache-write=30000, cache-write-1h=10000",
                "input=150000, cached=60000, cache-write=40000, cache-write-1h=15000",
            ] {
                let response = try await harness.request(
                    "POST", "/v1/default/default/anthropic/v1/messages",
                    headers: ["Content-Type": "application/json", "x-mock-usage": usage],
                    body: Self.messages("claude-haiku-5-5"))
                #expect(response.status == 200)
            }
            let logs = try await harness.waitForLogs(query: "&order=asc", count: 2)
            try #require(logs.count == 2)
            #expect(logs.map { $0["tokens_in"] as? Int64 } == [90_000, 150_000])
            #expect(logs.map { $0["cache_write_1h_tokens"] as? Int64 } == [10_000, 15_000])
            for log in logs {
                #expect(CostAccountingTests.picodollars(log["cost"]) == (try Self.handCost(log, row)), "\(log)")
            }
            // The band matters: the long prompt costs more than 150,000 / 90,000 times the short one.
            let costs = logs.compactMap { CostAccountingTests.picodollars($0["cost"]) }
            #expect(costs.count == 2 && costs[1] * 90_000 > costs[0] * 150_000 * 3)
        }
    }

    @Test func openAICacheWritesArePricedBelowAndAboveTheBand() async throws {
        try await Self.withGateway { harness in
            let row = try Self.rowInForce("openai", "gpt-6.2-sol")
            #expect(row["cache_write"] == "2.50" && row["prompt_threshold"] == "272000")
            for usage in [
                "input=10000, cached=4000, cache-write=5000", "input=300000, cached=200000, cache-write=50000",
            ] {
                let response = try await harness.request(
                    "POST", "/v1/default/default/openai/chat/completions",
                    headers: ["Content-Type": "application/json", "x-mock-usage": usage],
                    body: CostAccountingTests.chat(model: "gpt-6.2-sol"))
                #expect(response.status == 200)
            }
            let logs = try await harness.waitForLogs(query: "&order=asc", count: 2)
            try #require(logs.count == 2)
            #expect(logs.map { $0["cache_write_tokens"] as? Int64 } == [5_000, 50_000])
            for log in logs {
                #expect(CostAccountingTests.picodollars(log["cost"]) == (try Self.handCost(log, row)), "\(log)")
            }
            // By hand for the short prompt: 1,000 × $2 + 4,000 × $0.10 + 5,000 × $2.50 + out × $10 (per 1M).
            let short = logs[0]
            let out = try #require(short["tokens_out"] as? Int64)
            #expect(
                CostAccountingTests.picodollars(short["cost"])
                    == 1_000 * 2_000_000 + 4_000 * 100_000 + 5_000 * 2_500_000 + out * 10_000_000)
        }
    }

    @Test func aPriceChangeMidMonthKeepsEarlierRequestsAtTheEarlierPrice() async throws {
        try await Self.withGateway { harness in
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            let monthStart = UTCMonth.start(of: now)
            let month = UTCMonth.name(monthStart)
            let first = """
                {"provider":"openai","model":"tollgate-changing","effective_from":"\(RFC3339.format(milliseconds: monthStart))",
                 "input":"1.5","output":"6","cached_input":"0.15","source":"test"}
                """
            #expect(try await harness.api("POST", "/api/v1/prices", json: first).status == 201)
            let headers = ["Content-Type": "application/json", "x-mock-usage": "cached=3"]
            _ = try await harness.request(
                "POST", "/v1/default/default/openai/chat/completions", headers: headers,
                body: CostAccountingTests.chat(model: "tollgate-changing"))
            let before = try #require(try await harness.waitForLogs(count: 1).first)
            // The price changes now, within the month; the change is a new row, the first row stays.
            let change = Int64(Date().timeIntervalSince1970 * 1000) + 1
            try await Task.sleep(for: .milliseconds(5))
            let second = """
                {"provider":"openai","model":"tollgate-changing","effective_from":"\(RFC3339.format(milliseconds: change))",
                 "input":"0.75","output":"3","cached_input":"0.075","source":"test"}
                """
            #expect(try await harness.api("POST", "/api/v1/prices", json: second).status == 201)
            _ = try await harness.request(
                "POST", "/v1/default/default/openai/chat/completions", headers: headers,
                body: CostAccountingTests.chat(model: "tollgate-changing"))
            let logs = try await harness.waitForLogs(query: "&order=asc", count: 2)
            try #require(logs.count == 2)
            func byHand(_ log: [String: Any], input: Int64, cached: Int64, output: Int64) throws -> Int64 {
                let tokensIn = try #require(log["tokens_in"] as? Int64)
                let reads = try #require(log["cached_tokens_in"] as? Int64)
                let tokensOut = try #require(log["tokens_out"] as? Int64)
                return (tokensIn - reads) * input + reads * cached + tokensOut * output
            }
            #expect(logs[0]["id"] as? String == before["id"] as? String)
            let old = try byHand(logs[0], input: 1_500_000, cached: 150_000, output: 6_000_000)
            let new = try byHand(logs[1], input: 750_000, cached: 75_000, output: 3_000_000)
            #expect(CostAccountingTests.picodollars(logs[0]["cost"]) == old)
            #expect(CostAccountingTests.picodollars(logs[1]["cost"]) == new)
            // Repricing the month changes nothing: each request stays at the row in force when it was made.
            let reprice = try await harness.api(
                "POST", "/api/v1/accounts/default/reprice",
                json: #"{"from":"\#(RFC3339.format(milliseconds: monthStart))","to":"2100-01-01"}"#)
            #expect(try reprice.json()["changed"] as? Int == 0)

            // The month's report: one line whose cost is the sum of both prices. Once the model is retired (a row
            // with a retirement date before the month ended), its line says so and stays priced.
            let retire = """
                {"provider":"openai","model":"tollgate-changing","effective_from":"\(RFC3339.format(milliseconds: change))",
                 "input":"0.75","output":"3","cached_input":"0.075","source":"test","retired":"\(RFC3339.format(milliseconds: change))"}
                """
            #expect(try await harness.api("POST", "/api/v1/prices", json: retire).status == 201)
            var line: [String: Any]?
            let deadline = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < deadline {
                let report = try await harness.api("/api/v1/accounts/default/reports/monthly?month=\(month)").json()
                line = (report["lines"] as? [[String: Any]])?.first { $0["model"] as? String == "tollgate-changing" }
                if line?["requests"] as? Int == 2 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            let reported = try #require(line)
            #expect(reported["requests"] as? Int == 2)
            #expect(CostAccountingTests.picodollars(reported["cost"]) == old + new)
            #expect(reported["retired"] as? String == String(RFC3339.format(milliseconds: change).prefix(10)))
            let csv = try await harness.api("/api/v1/accounts/default/reports/monthly?month=\(month)&format=csv").text
            #expect(csv.contains(",\(String(RFC3339.format(milliseconds: change).prefix(10))),"))
        }
    }
}
