import Foundation
import Testing
import TollgateModel

/// The mock provider's Workers AI routes, at the upstream paths the gateway maps `workers-ai` to: the REST run in
/// Cloudflare's `result` envelope, plain and streamed, and the OpenAI-compatible chat completions.
@Suite("Mock provider: Workers AI")
struct MockProviderWorkersAITests {
    static let run = "/client/v4/accounts/0123456789abcdef0123456789abcdef/ai/run/@cf/meta/llama-3.2-3b-instruct"
    /// Four words: "Say hello to Cloudflare".
    static let prompt = #"{"prompt":"Say hello to Cloudflare"}"#

    @Test func restRunAnswersTheResultEnvelopeForThePathsModel() async throws {
        let response = try await withMockProvider { port in
            try await MockClient.send(.init(path: Self.run, body: Self.prompt), port: port)
        }
        #expect(response.status == 200)
        #expect(response.header("content-type") == "application/json")
        let json = response.json
        #expect(json["success"] as? Bool == true)
        #expect((json["errors"] as? [Any])?.isEmpty == true)
        let result = try #require(json["result"] as? [String: Any])
        #expect(result["response"] as? String == mockReply)
        let usage = try #require(result["usage"] as? [String: Any])
        #expect(mockInt(usage["prompt_tokens"]) == 4)
        #expect(mockInt(usage["completion_tokens"]) == mockReplyWords)
        #expect(mockInt(usage["total_tokens"]) == 4 + mockReplyWords)
        // What the gateway reads from it.
        let parsed = UsageParser.parse(body: response.body, eventStream: false)
        #expect(parsed.usage.tokensIn == 4 && parsed.usage.tokensOut == Int64(mockReplyWords))
    }

    @Test func streamedRunSendsResponseEventsThenUsageThenDone() async throws {
        let response = try await withMockProvider { port in
            try await MockClient.send(
                .init(path: Self.run, body: #"{"prompt":"Say hello to Cloudflare","stream":true}"#), port: port)
        }
        #expect(response.status == 200)
        #expect(response.header("content-type")?.hasPrefix("text/event-stream") == true)
        let objects = response.eventObjects
        #expect(objects.count == mockReplyWords + 1)
        let text = objects.dropLast().compactMap { $0["response"] as? String }.joined()
        #expect(text == mockReply)
        let last = try #require(objects.last)
        #expect(last["response"] as? String == "")
        let usage = try #require(last["usage"] as? [String: Any])
        #expect(mockInt(usage["prompt_tokens"]) == 4)
        #expect(mockInt(usage["completion_tokens"]) == mockReplyWords)
        #expect(response.events.last?.data == "[DONE]")
        let parsed = UsageParser.parse(body: response.body, eventStream: true)
        #expect(parsed.usage.tokensIn == 4 && parsed.usage.tokensOut == Int64(mockReplyWords))
    }

    @Test func escapedModelIdsAndTheOpenAICompatibleRoutesAreAnswered() async throws {
        let responses = try await withMockProvider { port in
            [
                try await MockClient.send(
                    .init(path: Self.run.replacingOccurrences(of: "/@cf/", with: "/%40cf/"), body: Self.prompt),
                    port: port),
                try await MockClient.send(
                    .init(
                        path: "/client/v4/accounts/acme/ai/v1/chat/completions",
                        body:
                            #"{"model":"@cf/meta/llama-3.1-8b-instruct-fp8","messages":[{"role":"user","content":"hi"}]}"#
                    ),
                    port: port),
                try await MockClient.send(
                    .init(path: "/client/v4/accounts/acme/ai/run/", body: Self.prompt), port: port),
            ]
        }
        #expect(responses[0].status == 200)
        #expect(responses[1].status == 200)
        #expect(responses[1].json["object"] as? String == "chat.completion")
        #expect(responses[1].json["model"] as? String == "@cf/meta/llama-3.1-8b-instruct-fp8")
        #expect(responses[2].status == 404)
    }

    @Test func injectedFailuresOnARunAnswerCloudflaresErrorEnvelope() async throws {
        let response = try await withMockProvider { port in
            try await MockClient.send(
                .init(path: Self.run, body: Self.prompt, headers: [("x-mock-fault", "status=429")]), port: port)
        }
        #expect(response.status == 429)
        let json = response.json
        #expect(json["success"] as? Bool == false)
        #expect(json["result"] is NSNull)
        let errors = try #require(json["errors"] as? [[String: Any]])
        #expect(mockInt(errors.first?["code"]) == 429)
        #expect((errors.first?["message"] as? String)?.contains("429") == true)
        let parsed = UsageParser.parse(body: response.body, eventStream: false)
        #expect(parsed.usage.tokensIn == nil && parsed.usage.tokensOut == nil)
    }
}
