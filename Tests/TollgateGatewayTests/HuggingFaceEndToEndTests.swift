import Foundation
import Testing
import TollgateModel

/// Hugging Face through the gateway to the mock provider at Cloudflare AI Gateway's path: `…/huggingface/{model}/…`
/// goes to `api-inference.huggingface.co/models/{model}/…`, here a model's OpenAI-compatible Messages API
/// (`/v1/chat/completions`), plain and streamed. The log names the model the path names, whatever placeholder the
/// body's `model` holds, carries the reported tokens, and is unpriced (Hugging Face bills at the rate of the provider
/// that served the request; see PRICES.md).
@Suite(.serialized) struct HuggingFaceEndToEndTests {
    static let headers = ["Content-Type": "application/json", "Authorization": "Bearer hf_test_token"]
    static let model = "meta-llama/Llama-3.1-8B-Instruct"

    @Test func messagesAPIChatIsLoggedWithThePathsModelAndTokensPlainAndStreamed() async throws {
        let harness = try await GatewayHarness.start { configuration in
            let mock = configuration.providers.provider("anthropic")!.baseURL
            configuration.providers = configuration.providers.overriding("huggingface", baseURL: mock + "/models")!
        }
        defer { Task { try? await harness.stop() } }
        let path = "/v1/default/default/huggingface/\(Self.model)/v1/chat/completions"
        let plain = try await harness.request(
            "POST", path, headers: Self.headers,
            body: Data(#"{"model":"tgi","messages":[{"role":"user","content":"What is deep learning?"}]}"#.utf8))
        #expect(plain.status == 200, "\(plain.text)")
        let answer = try plain.json()
        #expect(answer["model"] as? String == Self.model)
        let usage = try #require(answer["usage"] as? [String: Any])
        let streamed = try await harness.request(
            "POST", path, headers: Self.headers,
            body: Data(
                #"{"model":"tgi","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"What is deep learning?"}]}"#
                    .utf8))
        #expect(streamed.status == 200)
        #expect(streamed.text.hasSuffix("data: [DONE]\n\n"))

        let logs = try await harness.waitForLogs(query: "&order=asc", count: 2)
        #expect(logs.count == 2)
        for (log, stream) in zip(logs, [false, true]) {
            #expect(log["provider"] as? String == "huggingface")
            #expect(log["model"] as? String == Self.model, "the path's model, not the body's placeholder")
            #expect(log["path"] as? String == "/\(Self.model)/v1/chat/completions")
            #expect(log["stream"] as? Bool == stream)
            #expect(log["tokens_in"] as? Int64 == usage["prompt_tokens"] as? Int64)
            #expect((log["tokens_out"] as? Int64 ?? 0) > 0)
            #expect(log["cost"] is NSNull, "no huggingface price row: unpriced, not $0")
        }
        #expect(logs.first?["tokens_out"] as? Int64 == usage["completion_tokens"] as? Int64)
    }

    /// The text-generation task at `…/huggingface/{model}` (Cloudflare's `…/huggingface/bigcode/starcoder`): its plain
    /// answer reports no counts, so the log's tokens are unknown; streamed, text-generation-inference's last event
    /// carries `details.input_length` and `details.generated_tokens`, which the log takes as tokens in and out.
    @Test func textGenerationTaskIsLoggedWithoutTokensPlainAndWithTheDetailsCountsStreamed() async throws {
        let harness = try await GatewayHarness.start { configuration in
            let mock = configuration.providers.provider("anthropic")!.baseURL
            configuration.providers = configuration.providers.overriding("huggingface", baseURL: mock + "/models")!
        }
        defer { Task { try? await harness.stop() } }
        let path = "/v1/default/default/huggingface/bigcode/starcoder"
        let plain = try await harness.request(
            "POST", path, headers: Self.headers,
            body: Data(#"{"inputs":"def fibonacci(n):","parameters":{"max_new_tokens":24}}"#.utf8))
        #expect(plain.status == 200, "\(plain.text)")
        let answer = try #require(try JSONSerialization.jsonObject(with: plain.body) as? [[String: Any]])
        #expect(answer.first?["generated_text"] is String)
        let streamed = try await harness.request(
            "POST", path, headers: Self.headers,
            body: Data(#"{"inputs":"def fibonacci(n):","parameters":{"max_new_tokens":24},"stream":true}"#.utf8))
        #expect(streamed.status == 200)
        let events = streamed.text.split(separator: "\n\n").map { $0.dropFirst("data:".count) }
        let lastEvent = try #require(events.last)
        let last = try #require(try JSONSerialization.jsonObject(with: Data(lastEvent.utf8)) as? [String: Any])
        let details = try #require(last["details"] as? [String: Any])
        #expect(details["input_length"] as? Int == 2, "the mock counts the words of `inputs`")

        let logs = try await harness.waitForLogs(query: "&order=asc", count: 2)
        #expect(logs.count == 2)
        for (log, stream) in zip(logs, [false, true]) {
            #expect(log["provider"] as? String == "huggingface")
            #expect(log["model"] as? String == "bigcode/starcoder")
            #expect(log["path"] as? String == "/bigcode/starcoder")
            #expect(log["stream"] as? Bool == stream)
            #expect(log["cost"] is NSNull)
        }
        #expect(logs.first?["tokens_in"] is NSNull, "no counts in the plain answer: unknown, not 0")
        #expect(logs.first?["tokens_out"] is NSNull)
        #expect(logs.last?["tokens_in"] as? Int64 == (details["input_length"] as? NSNumber)?.int64Value)
        #expect(logs.last?["tokens_out"] as? Int64 == (details["generated_tokens"] as? NSNumber)?.int64Value)
        #expect((logs.last?["tokens_out"] as? Int64 ?? 0) == Int64(events.count))
    }
}
