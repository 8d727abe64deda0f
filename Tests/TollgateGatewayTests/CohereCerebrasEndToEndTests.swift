import Foundation
import Testing
import TollgateMockProvider
import TollgateModel

/// Cohere v2 chat and Cerebras through the gateway to the mock provider: the logged tokens are the billed ones the
/// provider reported, plain and streamed, and a model without a price row is unpriced.
@Suite(.serialized) struct CohereCerebrasEndToEndTests {
    /// A gateway whose `cohere` and `cerebras` upstreams are a mock provider of the test's own.
    static func start() async throws -> (GatewayHarness, MockProvider, Int) {
        let mock = MockProvider()
        let port = try await mock.start(host: "127.0.0.1", port: 0)
        let harness = try await GatewayHarness.start { configuration in
            configuration.providers = configuration.providers
                .overriding("cohere", baseURL: "http://127.0.0.1:\(port)")!
                .overriding("cerebras", baseURL: "http://127.0.0.1:\(port)/v1")!
        }
        return (harness, mock, port)
    }

    @Test func cohereChatIsLoggedWithBilledTokensPlainAndStreamed() async throws {
        let (harness, mock, port) = try await Self.start()
        defer { Task { try? await harness.stop() } }
        let body =
            #"{"model":"command-a-03-2025","messages":[{"role":"user","content":"Tell me about large language models"}]}"#
        let streamed =
            #"{"model":"command-a-03-2025","stream":true,"messages":[{"role":"user","content":"Tell me about large language models"}]}"#
        let direct = try await harness.request(
            "POST", "/v2/chat", headers: ["Content-Type": "application/json"], body: Data(body.utf8),
            base: "http://127.0.0.1:\(port)")
        let usage = try #require(try direct.json()["usage"] as? [String: Any])
        let billed = try #require(usage["billed_units"] as? [String: Any])
        let processed = try #require(usage["tokens"] as? [String: Any])
        #expect((processed["input_tokens"] as? Int ?? 0) > (billed["input_tokens"] as? Int ?? 0))

        let plain = try await harness.request(
            "POST", "/v1/default/default/cohere/v2/chat",
            headers: ["Content-Type": "application/json", "Authorization": "Bearer co-test-key"], body: Data(body.utf8))
        #expect(plain.status == 200)
        #expect(plain.body == direct.body)
        let stream = try await harness.request(
            "POST", "/v1/default/default/cohere/v2/chat",
            headers: ["Content-Type": "application/json", "Authorization": "Bearer co-test-key"],
            body: Data(streamed.utf8))
        #expect(stream.status == 200)
        #expect(stream.text.contains("event: message-end"))

        let logs = try await harness.waitForLogs(query: "&order=asc", count: 2)
        #expect(logs.count == 2)
        for (log, isStream) in zip(logs, [false, true]) {
            #expect(log["provider"] as? String == "cohere")
            #expect(log["model"] as? String == "command-a-03-2025")
            #expect(log["path"] as? String == "/v2/chat")
            #expect(log["stream"] as? Bool == isStream)
            #expect(log["tokens_in"] as? Int == billed["input_tokens"] as? Int)
            #expect(log["tokens_out"] as? Int == billed["output_tokens"] as? Int)
            #expect(log["cost"] is NSNull, "no Cohere price row: unpriced, not $0")
        }
        try await harness.stop()
        try await mock.shutdown()
    }

    @Test func cerebrasChatCompletionIsLoggedWithTokens() async throws {
        let (harness, mock, port) = try await Self.start()
        defer { Task { try? await harness.stop() } }
        let body = #"{"model":"llama3.1-8b","messages":[{"role":"user","content":"What is Cloudflare?"}]}"#
        let direct = try await harness.request(
            "POST", "/v1/chat/completions", headers: ["Content-Type": "application/json"], body: Data(body.utf8),
            base: "http://127.0.0.1:\(port)")
        let usage = try #require(try direct.json()["usage"] as? [String: Any])
        let proxied = try await harness.request(
            "POST", "/v1/default/default/cerebras/chat/completions",
            headers: ["Content-Type": "application/json", "Authorization": "Bearer csk-test"], body: Data(body.utf8))
        #expect(proxied.status == 200)
        let log = try #require(try await harness.waitForLogs(count: 1).first)
        #expect(log["provider"] as? String == "cerebras")
        #expect(log["model"] as? String == "llama3.1-8b")
        #expect(log["tokens_in"] as? Int == usage["prompt_tokens"] as? Int)
        #expect(log["tokens_out"] as? Int == usage["completion_tokens"] as? Int)
        #expect(log["cost"] is NSNull)
        try await harness.stop()
        try await mock.shutdown()
    }

    /// A stream whose client asked for usage (`stream_options.include_usage`, OpenAI's semantics on Cerebras's
    /// OpenAI-compatible API) is logged with the usage chunk's tokens, and a model with a shipped Cerebras row is
    /// priced from it.
    @Test func cerebrasStreamIsLoggedWithItsUsageChunkAndPricedFromTheShippedRow() async throws {
        let (harness, mock, _) = try await Self.start()
        let body =
            #"{"model":"gpt-oss-120b","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"What is Cloudflare?"}]}"#
        let streamed = try await harness.request(
            "POST", "/v1/default/default/cerebras/chat/completions",
            headers: ["Content-Type": "application/json", "Authorization": "Bearer csk-test"], body: Data(body.utf8))
        #expect(streamed.status == 200)
        #expect(streamed.text.contains(#""usage":{"prompt_tokens":3,"#))
        #expect(streamed.text.hasSuffix("data: [DONE]\n\n"))
        let log = try #require(try await harness.waitForLogs(count: 1).first)
        #expect(log["provider"] as? String == "cerebras")
        #expect(log["model"] as? String == "gpt-oss-120b")
        #expect(log["stream"] as? Bool == true)
        #expect(log["tokens_in"] as? Int64 == 3)
        #expect((log["tokens_out"] as? Int64 ?? 0) > 0)
        let row = try PriceStructureCostTests.rowInForce("cerebras", "gpt-oss-120b")
        let cost = try #require(CostAccountingTests.picodollars(log["cost"]), "priced from the shipped row")
        #expect(cost == (try PriceStructureCostTests.handCost(log, row)))
        #expect(cost > 0)
        try await harness.stop()
        try await mock.shutdown()
    }
}
