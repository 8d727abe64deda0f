import Foundation
import Testing
import TollgateModel

/// Every logged request carries an exact cost: from the price table through the API, a per-request custom cost, a
/// correction followed by a reprice; unknown models and errors are never a silent $0.
@Suite(.serialized) struct CostAccountingTests {
    /// USD per 1M tokens → picodollars per token is × 10⁶; costs are compared as picodollar integers parsed from
    /// the API's exact decimal text.
    static func picodollars(_ value: Any?) -> Int64? {
        guard let number = value as? NSNumber else { return nil }
        return ExactDecimal.scaled(number.description, scale: 12).map { Int64($0) }
    }

    static func chat(model: String) -> Data {
        Data(#"{"model":"\#(model)","messages":[{"role":"user","content":"count the tokens of this prompt"}]}"#.utf8)
    }

    @Test func requestsArePricedByTheRowInForceAndReportEachTokenClass() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let row = """
            {"provider":"openai","model":"tollgate-priced","effective_from":"2020-01-01","input":2.5,"output":10,
             "cached_input":"1.25","reasoning":12,"source":"test"}
            """
        let created = try await harness.api("POST", "/api/v1/prices", json: row)
        #expect(created.status == 201, "\(created.text)")
        #expect(try created.json()["cached_input"] as? NSNumber == 1.25)

        let response = try await harness.request(
            "POST", "/v1/default/default/openai/chat/completions",
            headers: ["Content-Type": "application/json", "x-mock-usage": "cached=3,reasoning=4"],
            body: Self.chat(model: "tollgate-priced-2026-01-01"))
        #expect(response.status == 200)
        let log = try #require(try await harness.waitForLogs(count: 1).first)
        let tokensIn = try #require(log["tokens_in"] as? Int64)
        let cached = try #require(log["cached_tokens_in"] as? Int64)
        let tokensOut = try #require(log["tokens_out"] as? Int64)
        let reasoning = try #require(log["reasoning_tokens"] as? Int64)
        #expect(cached == 3 && reasoning == 4)
        // By hand: cached tokens are part of the prompt (cached rate for them, input rate for the rest); reasoning
        // tokens are part of the output, at their own rate here.
        let expected =
            (tokensIn - cached) * 2_500_000 + cached * 1_250_000 + (tokensOut - reasoning) * 10_000_000
            + reasoning * 12_000_000
        #expect(Self.picodollars(log["cost"]) == expected)
        #expect(log["custom_cost"] as? Bool == false)
        try await harness.stop()
    }

    @Test func anthropicCacheWritesArePricedByTTLOnTopOfInput() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let row = """
            {"provider":"anthropic","model":"tollgate-sonnet","effective_from":"2020-01-01","input":3,"output":15,
             "cached_input":0.3,"cache_write_5m":3.75,"cache_write_1h":6}
            """
        #expect(try await harness.api("POST", "/api/v1/prices", json: row).status == 201)
        let body = Data(
            #"{"model":"tollgate-sonnet","max_tokens":64,"messages":[{"role":"user","content":"a prompt long enough to hold cache reads and cache writes"}]}"#
                .utf8)
        let response = try await harness.request(
            "POST", "/v1/default/default/anthropic/v1/messages",
            headers: ["Content-Type": "application/json", "x-mock-usage": "cached=2,cache-write=3"], body: body)
        #expect(response.status == 200)
        let log = try #require(try await harness.waitForLogs(count: 1).first)
        let tokensIn = try #require(log["tokens_in"] as? Int64)
        let cached = try #require(log["cached_tokens_in"] as? Int64)
        let writes = try #require(log["cache_write_tokens"] as? Int64)
        let tokensOut = try #require(log["tokens_out"] as? Int64)
        #expect(cached == 2 && writes == 3)
        // Without a TTL split every write is a 5-minute write.
        let expected =
            (tokensIn - cached - writes) * 3_000_000 + cached * 300_000 + writes * 3_750_000 + tokensOut * 15_000_000
        #expect(Self.picodollars(log["cost"]) == expected)
        try await harness.stop()
    }

    @Test func customCostHeaderOverridesThePriceAndIsMarked() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let headers = ["Content-Type": "application/json"]
        var perToken = headers
        perToken["cf-aig-custom-cost"] = #"{"per_token_in":0.000001,"per_token_out":2e-6}"#
        var total = headers
        total["cf-aig-custom-cost"] = #"{"total_cost":0.0125}"#
        _ = try await harness.request(
            "POST", "/v1/default/default/openai/chat/completions", headers: perToken,
            body: Self.chat(model: "unlisted-model"))
        _ = try await harness.request(
            "POST", "/v1/default/default/openai/chat/completions", headers: total,
            body: Self.chat(model: "unlisted-model"))
        let logs = try await harness.waitForLogs(query: "&order=asc", count: 2)
        #expect(logs.count == 2)
        let first = logs[0]
        let tokensIn = try #require(first["tokens_in"] as? Int64)
        let tokensOut = try #require(first["tokens_out"] as? Int64)
        #expect(Self.picodollars(first["cost"]) == tokensIn * 1_000_000 + tokensOut * 2_000_000)
        #expect(first["custom_cost"] as? Bool == true)
        #expect(Self.picodollars(logs[1]["cost"]) == 12_500_000_000)
        #expect(logs[1]["custom_cost"] as? Bool == true)
        // A malformed price is refused before anything reaches the provider, and nothing is logged.
        var bad = headers
        bad["cf-aig-custom-cost"] = #"{"total_cost":"a lot"}"#
        let refused = try await harness.request(
            "POST", "/v1/default/default/openai/chat/completions", headers: bad,
            body: Self.chat(model: "unlisted-model"))
        #expect(refused.status == 400)
        let error = try #require(try refused.json()["error"] as? [String: Any])
        #expect(error["code"] as? String == "invalid_custom_cost")
        #expect((error["message"] as? String)?.contains("total_cost") == true)
        try await Task.sleep(for: .milliseconds(150))
        #expect(try await harness.waitForLogs(count: 3, timeout: .zero).count == 2)
        try await harness.stop()
    }

    @Test func unknownModelsAreUnpricedAndProviderErrorsCostNothing() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let headers = ["Content-Type": "application/json"]
        _ = try await harness.request(
            "POST", "/v1/default/default/openai/chat/completions", headers: headers,
            body: Self.chat(model: "no-such-model"))
        var failing = headers
        failing["x-mock-fault"] = "status=429"
        let refused = try await harness.request(
            "POST", "/v1/default/default/openai/chat/completions", headers: failing,
            body: Self.chat(model: "no-such-model"))
        #expect(refused.status == 429)
        let logs = try await harness.waitForLogs(query: "&order=asc", count: 2)
        #expect(logs.count == 2)
        #expect(logs[0]["tokens_in"] as? Int64 != nil)
        #expect(logs[0]["cost"] is NSNull, "an unlisted model with tokens is unpriced, not $0")
        #expect(logs[1]["tokens_in"] is NSNull)
        #expect(Self.picodollars(logs[1]["cost"]) == 0, "a refused request is not billed")
        try await harness.stop()
    }

    @Test func aCorrectedPriceRepricesThePeriodLikeAFreshIngest() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let old =
            #"{"provider":"openai","model":"tollgate-repriced","effective_from":"2020-01-01","input":1,"output":2}"#
        #expect(try await harness.api("POST", "/api/v1/prices", json: old).status == 201)
        for _ in 0..<3 {
            _ = try await harness.request(
                "POST", "/v1/default/default/openai/chat/completions", headers: ["Content-Type": "application/json"],
                body: Self.chat(model: "tollgate-repriced"))
        }
        let before = try await harness.waitForLogs(count: 3)
        let oldCosts = before.map { Self.picodollars($0["cost"]) }
        // A price change that took effect yesterday, learned today.
        let yesterday = RFC3339.format(milliseconds: Int64(Date().timeIntervalSince1970 * 1000) - 86_400_000)
        let new = """
            {"provider":"openai","model":"tollgate-repriced","effective_from":"\(yesterday)","input":3,"output":5}
            """
        #expect(try await harness.api("POST", "/api/v1/prices", json: new).status == 201)
        let reprice = try await harness.api(
            "POST", "/api/v1/accounts/default/reprice", json: #"{"from":"2020-01-01","to":"2100-01-01"}"#)
        #expect(reprice.status == 200, "\(reprice.text)")
        #expect(try reprice.json()["changed"] as? Int == 3)
        // A request ingested under the new price costs what the repriced ones now cost.
        _ = try await harness.request(
            "POST", "/v1/default/default/openai/chat/completions", headers: ["Content-Type": "application/json"],
            body: Self.chat(model: "tollgate-repriced"))
        let after = try await harness.waitForLogs(count: 4)
        let costs = Set(after.map { Self.picodollars($0["cost"]) })
        #expect(costs.count == 1, "identical requests, one price: \(costs)")
        let log = after[0]
        let tokensIn = try #require(log["tokens_in"] as? Int64)
        let tokensOut = try #require(log["tokens_out"] as? Int64)
        #expect(costs.first == tokensIn * 3_000_000 + tokensOut * 5_000_000)
        #expect(oldCosts.allSatisfy { $0 == tokensIn * 1_000_000 + tokensOut * 2_000_000 })
        let again = try await harness.api(
            "POST", "/api/v1/accounts/default/reprice", json: #"{"from":"2020-01-01","to":"2100-01-01"}"#)
        #expect(try again.json()["changed"] as? Int == 0)
        try await harness.stop()
    }

    @Test func priceInputIsValidated() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let cases: [(String, String)] = [
            (#"{"model":"m","effective_from":"2026-01-01","input":1,"output":1}"#, "provider"),
            (#"{"provider":"openai","model":"m","effective_from":"soon","input":1,"output":1}"#, "effective_from"),
            (#"{"provider":"openai","model":"m","effective_from":"2026-01-01","input":-1,"output":1}"#, "input"),
            (
                #"{"provider":"openai","model":"m","effective_from":"2026-01-01","input":"0.0000001","output":1}"#,
                "input"
            ),
            (#"{"provider":"openai","model":"m","effective_from":"2026-01-01","output":1}"#, "input"),
        ]
        for (body, parameter) in cases {
            let result = try await harness.api("POST", "/api/v1/prices", json: body)
            #expect(result.status == 400, "\(body)")
            #expect(result.text.contains(parameter), "\(result.text)")
        }
        let reprice = try await harness.api(
            "POST", "/api/v1/accounts/default/reprice", json: #"{"from":"2026-02-01","to":"2026-01-01"}"#)
        #expect(reprice.status == 400)
        try await harness.stop()
    }
}
