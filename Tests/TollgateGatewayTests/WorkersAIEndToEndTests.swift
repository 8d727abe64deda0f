import Foundation
import Testing
import TollgateModel

/// Workers AI through the gateway to the mock provider, at Cloudflare AI Gateway's paths: the REST run
/// (`…/workers-ai/{model}`, model only in the path) plain and streamed, and the OpenAI-compatible
/// `…/workers-ai/v1/chat/completions`. The Cloudflare account id is the gateway path's account, so the upstream path
/// is `/client/v4/accounts/{account}/ai/…`; logs carry the model, the reported tokens and a cost from the shipped
/// `workers-ai` price rows.
@Suite(.serialized) struct WorkersAIEndToEndTests {
    static let headers = ["Content-Type": "application/json", "Authorization": "Bearer cf-api-token"]

    /// A gateway whose `workers-ai` upstream is the harness's own mock provider (`--upstream workers-ai=URL`: the
    /// URL replaces scheme, host and port; the mapped path stays).
    static func start() async throws -> GatewayHarness {
        try await GatewayHarness.start { configuration in
            let mock = configuration.providers.provider("anthropic")!.baseURL
            configuration.providers = configuration.providers.overriding("workers-ai", baseURL: mock)!
        }
    }

    @Test func restRunIsLoggedWithThePathsModelTokensAndShippedPricePlainAndStreamed() async throws {
        let harness = try await Self.start()
        defer { Task { try? await harness.stop() } }
        let model = "@cf/meta/llama-3.2-3b-instruct"
        let path = "/v1/default/default/workers-ai/\(model)"
        let direct = try await harness.request(
            "POST", "/client/v4/accounts/default/ai/run/\(model)", headers: Self.headers,
            body: Data(#"{"prompt":"What is Cloudflare?"}"#.utf8), base: "http://127.0.0.1:\(harness.mockPort)")
        let result = try #require(try direct.json()["result"] as? [String: Any])
        let usage = try #require(result["usage"] as? [String: Any])
        #expect(usage["prompt_tokens"] as? Int == 3)

        let plain = try await harness.request(
            "POST", path, headers: Self.headers, body: Data(#"{"prompt":"What is Cloudflare?"}"#.utf8))
        #expect(plain.status == 200, "\(plain.text)")
        #expect(plain.body == direct.body)
        let streamed = try await harness.request(
            "POST", path, headers: Self.headers,
            body: Data(#"{"prompt":"Tell me about Workers AI","stream":true}"#.utf8))
        #expect(streamed.status == 200)
        #expect(streamed.text.hasPrefix("data: {\"response\":"))
        #expect(streamed.text.contains(#"data: {"response":"","usage":{"prompt_tokens":5,"#))
        #expect(streamed.text.hasSuffix("data: [DONE]\n\n"))

        let row = try PriceStructureCostTests.rowInForce("workers-ai", model)
        let logs = try await harness.waitForLogs(query: "&order=asc", count: 2)
        #expect(logs.count == 2)
        for (log, (stream, tokensIn)) in zip(logs, [(false, Int64(3)), (true, 5)]) {
            #expect(log["provider"] as? String == "workers-ai")
            #expect(log["model"] as? String == model)
            #expect(log["path"] as? String == "/\(model)")
            #expect(log["stream"] as? Bool == stream)
            #expect(log["tokens_in"] as? Int64 == tokensIn)
            #expect((log["tokens_out"] as? Int64 ?? 0) > 0)
            let cost = try #require(CostAccountingTests.picodollars(log["cost"]), "priced from the shipped row")
            #expect(cost == (try PriceStructureCostTests.handCost(log, row)))
            #expect(cost > 0)
        }
    }

    @Test func openAICompatibleChatIsLoggedWithTheBodysModelAndPriced() async throws {
        let harness = try await Self.start()
        defer { Task { try? await harness.stop() } }
        let model = "@cf/meta/llama-3.1-8b-instruct-fp8"
        let body = #"{"model":"\#(model)","messages":[{"role":"user","content":"What is Cloudflare?"}]}"#
        let proxied = try await harness.request(
            "POST", "/v1/default/default/workers-ai/v1/chat/completions", headers: Self.headers, body: Data(body.utf8))
        #expect(proxied.status == 200, "\(proxied.text)")
        let usage = try #require(try proxied.json()["usage"] as? [String: Any])
        let log = try #require(try await harness.waitForLogs(count: 1).first)
        #expect(log["provider"] as? String == "workers-ai")
        #expect(log["model"] as? String == model)
        #expect(log["path"] as? String == "/v1/chat/completions")
        #expect(log["tokens_in"] as? Int64 == usage["prompt_tokens"] as? Int64)
        #expect(log["tokens_out"] as? Int64 == usage["completion_tokens"] as? Int64)
        let row = try PriceStructureCostTests.rowInForce("workers-ai", model)
        #expect(CostAccountingTests.picodollars(log["cost"]) == (try PriceStructureCostTests.handCost(log, row)))
    }

    @Test func openAICompatibleStreamIsLoggedWithItsUsageChunksTokensAndPriced() async throws {
        let harness = try await Self.start()
        defer { Task { try? await harness.stop() } }
        let model = "@cf/meta/llama-3.1-8b-instruct-fp8"
        let body =
            #"{"model":"\#(model)","messages":[{"role":"user","content":"What is Cloudflare?"}],"stream":true,"#
            + #""stream_options":{"include_usage":true}}"#
        let streamed = try await harness.request(
            "POST", "/v1/default/default/workers-ai/v1/chat/completions", headers: Self.headers, body: Data(body.utf8))
        #expect(streamed.status == 200, "\(streamed.text)")
        #expect(streamed.text.hasSuffix("data: [DONE]\n\n"))
        // The usage the stream reported: its chunk with a `usage` object.
        let usage = try #require(
            streamed.text.split(separator: "\n").compactMap { line -> [String: Any]? in
                guard line.hasPrefix("data: {"),
                    let chunk = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any]
                else { return nil }
                return chunk["usage"] as? [String: Any]
            }.last)
        let log = try #require(try await harness.waitForLogs(count: 1).first)
        #expect(log["provider"] as? String == "workers-ai")
        #expect(log["model"] as? String == model)
        #expect(log["stream"] as? Bool == true)
        #expect(log["tokens_in"] as? Int64 == (usage["prompt_tokens"] as? NSNumber)?.int64Value)
        #expect(log["tokens_out"] as? Int64 == (usage["completion_tokens"] as? NSNumber)?.int64Value)
        #expect((log["tokens_out"] as? Int64 ?? 0) > 0)
        let row = try PriceStructureCostTests.rowInForce("workers-ai", model)
        let cost = try #require(CostAccountingTests.picodollars(log["cost"]), "priced from the shipped row")
        #expect(cost == (try PriceStructureCostTests.handCost(log, row)))
    }

    @Test func aPathWithoutAModelIsRefusedBeforeAnythingIsForwarded() async throws {
        let harness = try await Self.start()
        defer { Task { try? await harness.stop() } }
        let refused = try await harness.request(
            "POST", "/v1/default/default/workers-ai/v1", headers: Self.headers, body: Data("{}".utf8))
        #expect(refused.status == 400)
        let error = try #require(try refused.json()["error"] as? [String: Any])
        #expect(error["code"] as? String == "invalid_provider_path")
        #expect((error["message"] as? String)?.contains("workers-ai path is missing") == true)
    }

    @Test func aUniversalStepRunsTheModelItsEndpointNamesWithTheGatewaysAccount() async throws {
        let harness = try await Self.start()
        defer { Task { try? await harness.stop() } }
        let model = "@cf/meta/llama-3.2-1b-instruct"
        let steps =
            #"[{"provider":"workers-ai","endpoint":"\#(model)","headers":{"authorization":"Bearer cf-api-token"},"#
            + #""query":{"prompt":"What is Cloudflare?"}}]"#
        let answered = try await harness.request(
            "POST", "/v1/default/default", headers: ["Content-Type": "application/json"], body: Data(steps.utf8))
        #expect(answered.status == 200, "\(answered.text)")
        #expect(try answered.json()["success"] as? Bool == true)
        let log = try #require(try await harness.waitForLogs(count: 1).first)
        #expect(log["provider"] as? String == "workers-ai")
        #expect(log["model"] as? String == model)
        #expect(log["tokens_in"] as? Int64 == 3)
        let row = try PriceStructureCostTests.rowInForce("workers-ai", model)
        #expect(CostAccountingTests.picodollars(log["cost"]) == (try PriceStructureCostTests.handCost(log, row)))
    }

    @Test func aSpendRuleScopedToARunsModelAppliesToThePathsModel() async throws {
        let harness = try await Self.start()
        defer { Task { try? await harness.stop() } }
        let rules =
            #"[{"id":"llama","limit":"0.0008","window":3600,"model":{"mode":"filter","values":["@cf/meta/llama-3.2-3b-instruct"]}}]"#
        try await SpendLimitTests.create(harness, "models", rules: rules)
        var headers = Self.headers
        headers["cf-aig-custom-cost"] = SpendLimitTests.cost
        func run(_ model: String) async throws -> GatewayHarness.HTTPResult {
            try await harness.request(
                "POST", "/v1/default/models/workers-ai/\(model)", headers: headers,
                body: Data(#"{"prompt":"What is Cloudflare?"}"#.utf8))
        }
        for _ in 0..<2 { #expect(try await run("@cf/meta/llama-3.2-3b-instruct").status == 200) }
        _ = try await SpendLimitTests.spend(harness, gateway: "models", atLeast: Decimal(string: "0.0008")!)
        let before = harness.mock.requestCount
        let refused = try await run("@cf/meta/llama-3.2-3b-instruct")
        #expect(refused.status == 429)
        #expect(harness.mock.requestCount == before)
        // Another model is outside the rule.
        #expect(try await run("@cf/meta/llama-3.2-1b-instruct").status == 200)
    }
}
