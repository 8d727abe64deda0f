import Foundation
import NIOCore
import NIOPosix
import Testing
import TollgateMockProvider

/// Runs `body` against a mock provider listening on a free loopback port, then shuts it down.
func withMockProvider<T>(
    _ configuration: MockProvider.Configuration = .init(),
    _ body: (Int) async throws -> T
) async throws -> T {
    let provider = MockProvider(configuration: configuration, group: MultiThreadedEventLoopGroup.singleton)
    let port = try await provider.start(host: "127.0.0.1", port: 0)
    do {
        let result = try await body(port)
        try await provider.shutdown()
        return result
    } catch {
        try await provider.shutdown()
        throw error
    }
}

typealias MockClient = MockProviderTestClient

let mockReply = "This is a deterministic reply from the Tollgate mock provider."
let mockReplyWords = 10

/// Eight words of message content: "Be brief." and "Say hello to the gateway please".
let mockChatBody =
    #"{"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},"#
    + #"{"role":"user","content":"Say hello to the gateway please"}]}"#
let mockChatInputTokens = 8

func mockStreaming(_ body: String, includeUsage: Bool? = nil) -> String {
    var extra = #","stream":true"#
    if let includeUsage { extra += #","stream_options":{"include_usage":\#(includeUsage)}"# }
    return String(body.dropLast()) + extra + "}"
}

func mockInt(_ value: Any?) -> Int? {
    (value as? NSNumber)?.intValue
}

@Suite("Mock provider: OpenAI chat completions")
struct MockProviderChatTests {
    @Test func nonStreamingReplyHasContentUsageAndHeaders() async throws {
        let response = try await withMockProvider { port in
            try await MockClient.send(.init(path: "/v1/chat/completions", body: mockChatBody), port: port)
        }
        #expect(response.status == 200)
        #expect(response.complete)
        #expect(response.header("content-type") == "application/json")
        #expect(response.header("x-request-id")?.hasPrefix("req_") == true)
        #expect(response.header("openai-processing-ms") != nil)
        #expect(Int(response.header("content-length") ?? "") == response.body.count)
        let json = response.json
        #expect(json["object"] as? String == "chat.completion")
        #expect(json["model"] as? String == "gpt-4o-mini")
        #expect((json["id"] as? String)?.hasPrefix("chatcmpl-") == true)
        let choices = try #require(json["choices"] as? [[String: Any]])
        let message = try #require(choices.first?["message"] as? [String: Any])
        #expect(message["role"] as? String == "assistant")
        #expect(message["content"] as? String == mockReply)
        #expect(choices.first?["finish_reason"] as? String == "stop")
        let usage = try #require(json["usage"] as? [String: Any])
        #expect(mockInt(usage["prompt_tokens"]) == mockChatInputTokens)
        #expect(mockInt(usage["completion_tokens"]) == mockReplyWords)
        #expect(mockInt(usage["total_tokens"]) == mockChatInputTokens + mockReplyWords)
        #expect(mockInt((usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"]) == 0)
        #expect(mockInt((usage["completion_tokens_details"] as? [String: Any])?["reasoning_tokens"]) == 0)
    }

    @Test func streamWithoutUsageOptionHasNoUsageField() async throws {
        let response = try await withMockProvider { port in
            try await MockClient.send(
                .init(path: "/v1/chat/completions", body: mockStreaming(mockChatBody)), port: port)
        }
        #expect(response.status == 200)
        #expect(response.complete)
        #expect(response.header("content-type") == "text/event-stream; charset=utf-8")
        #expect(response.events.last?.data == "[DONE]")
        let chunks = response.eventObjects
        #expect(chunks.count == mockReplyWords + 2)
        #expect(chunks.allSatisfy { $0["usage"] == nil })
        #expect(chunks.allSatisfy { $0["object"] as? String == "chat.completion.chunk" })
        let deltas = chunks.compactMap { chunk -> String? in
            let choice = (chunk["choices"] as? [[String: Any]])?.first
            return (choice?["delta"] as? [String: Any])?["content"] as? String
        }
        #expect(deltas.joined() == mockReply)
        let lastChoice = (chunks.last?["choices"] as? [[String: Any]])?.first
        #expect(lastChoice?["finish_reason"] as? String == "stop")
    }

    @Test func streamWithIncludeUsageEndsWithUsageChunk() async throws {
        let response = try await withMockProvider { port in
            try await MockClient.send(
                .init(path: "/v1/chat/completions", body: mockStreaming(mockChatBody, includeUsage: true)), port: port)
        }
        let chunks = response.eventObjects
        #expect(chunks.count == mockReplyWords + 3)
        for chunk in chunks.dropLast() {
            #expect(chunk["usage"] is NSNull)
        }
        let final = try #require(chunks.last)
        #expect((final["choices"] as? [Any])?.isEmpty == true)
        let usage = try #require(final["usage"] as? [String: Any])
        #expect(mockInt(usage["prompt_tokens"]) == mockChatInputTokens)
        #expect(mockInt(usage["completion_tokens"]) == mockReplyWords)
        #expect(response.events.last?.data == "[DONE]")
    }

    @Test func streamWithIncludeUsageFalseHasNoUsage() async throws {
        let response = try await withMockProvider { port in
            try await MockClient.send(
                .init(path: "/v1/chat/completions", body: mockStreaming(mockChatBody, includeUsage: false)), port: port)
        }
        #expect(response.eventObjects.allSatisfy { $0["usage"] == nil })
    }

    @Test func sameRequestGivesIdenticalBytesAndOtherRequestsDiffer() async throws {
        let other = mockChatBody.replacingOccurrences(of: "please", with: "now please")
        let responses = try await withMockProvider { port in
            try await MockClient.send(
                [
                    .init(path: "/v1/chat/completions", body: mockChatBody),
                    .init(path: "/v1/chat/completions", body: mockChatBody),
                    .init(path: "/v1/chat/completions", body: other),
                ], port: port)
        }
        #expect(responses.count == 3)
        #expect(responses[0].body == responses[1].body)
        #expect(responses[0].header("x-request-id") != responses[1].header("x-request-id"))
        #expect(responses[0].json["id"] as? String != responses[2].json["id"] as? String)
        #expect(mockInt((responses[2].json["usage"] as? [String: Any])?["prompt_tokens"]) == mockChatInputTokens + 1)
        let first = try await withMockProvider { port in
            try await MockClient.send(
                .init(path: "/v1/chat/completions", body: mockStreaming(mockChatBody)), port: port)
        }
        let second = try await withMockProvider { port in
            try await MockClient.send(
                .init(path: "/v1/chat/completions", body: mockStreaming(mockChatBody)), port: port)
        }
        #expect(first.body == second.body)
    }

    @Test func contentPartsAndEscapesAreCounted() async throws {
        let body =
            #"{"model":"gpt-4o","messages":[{"role":"user","content":[{"type":"text","text":"one\ttwo\nthree \u00e9"}]}]}"#
        let response = try await withMockProvider { port in
            try await MockClient.send(.init(path: "/v1/chat/completions", body: body), port: port)
        }
        #expect(mockInt((response.json["usage"] as? [String: Any])?["prompt_tokens"]) == 4)
    }

    @Test func modelWithQuotesIsEchoedAsValidJSON() async throws {
        let body = #"{"model":"odd \"model\"\\name","messages":[]}"#
        let response = try await withMockProvider { port in
            try await MockClient.send(.init(path: "/v1/chat/completions", body: body), port: port)
        }
        #expect(response.json["model"] as? String == #"odd "model"\name"#)
        #expect(mockInt((response.json["usage"] as? [String: Any])?["prompt_tokens"]) == 0)
    }
}

@Suite("Mock provider: OpenAI responses and embeddings")
struct MockProviderResponsesTests {
    static let body =
        #"{"model":"gpt-4.1","instructions":"Answer in one line.","input":"Tell me a joke about proxies"}"#

    @Test func nonStreamingResponseHasOutputTextAndUsage() async throws {
        let response = try await withMockProvider { port in
            try await MockClient.send(.init(path: "/v1/responses", body: Self.body), port: port)
        }
        #expect(response.status == 200)
        let json = response.json
        #expect(json["object"] as? String == "response")
        #expect(json["status"] as? String == "completed")
        #expect(json["model"] as? String == "gpt-4.1")
        #expect(json["instructions"] as? String == "Answer in one line.")
        let output = try #require(json["output"] as? [[String: Any]])
        let content = try #require(output.first?["content"] as? [[String: Any]])
        #expect(content.first?["type"] as? String == "output_text")
        #expect(content.first?["text"] as? String == mockReply)
        let usage = try #require(json["usage"] as? [String: Any])
        #expect(mockInt(usage["input_tokens"]) == 10)
        #expect(mockInt(usage["output_tokens"]) == mockReplyWords)
        #expect(mockInt(usage["total_tokens"]) == 10 + mockReplyWords)
        #expect(mockInt((usage["input_tokens_details"] as? [String: Any])?["cached_tokens"]) == 0)
        #expect(mockInt((usage["output_tokens_details"] as? [String: Any])?["reasoning_tokens"]) == 0)
    }

    @Test func streamHasTypedEventsInOrder() async throws {
        let response = try await withMockProvider { port in
            try await MockClient.send(.init(path: "/v1/responses", body: mockStreaming(Self.body)), port: port)
        }
        #expect(response.complete)
        let events = response.events
        let names = events.compactMap(\.event)
        #expect(names.count == events.count)
        #expect(names.first == "response.created")
        #expect(names.last == "response.completed")
        #expect(names.filter { $0 == "response.output_text.delta" }.count == mockReplyWords)
        #expect(
            Array(names.prefix(4)) == [
                "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
            ])
        #expect(
            Array(names.suffix(4)) == [
                "response.output_text.done", "response.content_part.done", "response.output_item.done",
                "response.completed",
            ])
        let objects = response.eventObjects
        #expect(objects.count == events.count)
        for (index, object) in objects.enumerated() {
            #expect(mockInt(object["sequence_number"]) == index)
            #expect(object["type"] as? String == names[index])
        }
        let deltas = objects.filter { $0["type"] as? String == "response.output_text.delta" }
            .compactMap { $0["delta"] as? String }
        #expect(deltas.joined() == mockReply)
        let created = try #require(objects.first?["response"] as? [String: Any])
        #expect(created["status"] as? String == "in_progress")
        #expect(created["usage"] is NSNull)
        let completed = try #require(objects.last?["response"] as? [String: Any])
        #expect(completed["status"] as? String == "completed")
        let usage = try #require(completed["usage"] as? [String: Any])
        #expect(mockInt(usage["input_tokens"]) == 10)
        #expect(mockInt(usage["output_tokens"]) == mockReplyWords)
    }

    @Test func embeddingsAsFloatsHonourDimensionsAndInputs() async throws {
        let body = #"{"model":"text-embedding-3-small","input":["first text here","second"],"dimensions":16}"#
        let response = try await withMockProvider { port in
            try await MockClient.send(.init(path: "/v1/embeddings", body: body), port: port)
        }
        #expect(response.status == 200)
        let json = response.json
        #expect(json["object"] as? String == "list")
        let data = try #require(json["data"] as? [[String: Any]])
        #expect(data.count == 2)
        #expect(mockInt(data[1]["index"]) == 1)
        let vector = try #require(data[0]["embedding"] as? [Double])
        #expect(vector.count == 16)
        #expect(vector.allSatisfy { (-1...1).contains($0) })
        #expect((data[1]["embedding"] as? [Double]) != vector)
        let usage = try #require(json["usage"] as? [String: Any])
        #expect(mockInt(usage["prompt_tokens"]) == 4)
        #expect(mockInt(usage["total_tokens"]) == 4)
    }

    @Test func embeddingsInBase64MatchTheFloats() async throws {
        let floats = #"{"model":"text-embedding-3-small","input":"hello world","dimensions":8}"#
        let base64 = String(floats.dropLast()) + #","encoding_format":"base64"}"#
        let (plain, encoded) = try await withMockProvider { port in
            (
                try await MockClient.send(.init(path: "/v1/embeddings", body: floats), port: port),
                try await MockClient.send(.init(path: "/v1/embeddings", body: base64), port: port)
            )
        }
        let expected = try #require(((plain.json["data"] as? [[String: Any]])?.first?["embedding"]) as? [Double])
        let text = try #require(((encoded.json["data"] as? [[String: Any]])?.first?["embedding"]) as? String)
        let bytes = try #require(Data(base64Encoded: text))
        #expect(bytes.count == 32)
        let decoded = (0..<8).map { index in
            let bits = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[index * 4 + $1]) << (8 * UInt32($1)) }
            return Double(Float(bitPattern: bits))
        }
        for (lhs, rhs) in zip(decoded, expected) {
            #expect(abs(lhs - rhs) < 1e-6)
        }
    }

    @Test func preTokenizedEmbeddingsCountOneTokenPerInteger() async throws {
        let body = #"{"model":"text-embedding-3-small","input":[[1,2,3],[4,5]],"dimensions":4}"#
        let response = try await withMockProvider { port in
            try await MockClient.send(.init(path: "/v1/embeddings", body: body), port: port)
        }
        #expect((response.json["data"] as? [Any])?.count == 2)
        #expect(mockInt((response.json["usage"] as? [String: Any])?["prompt_tokens"]) == 5)
    }

    @Test func embeddingsDefaultToConfiguredDimensions() async throws {
        var configuration = MockProvider.Configuration()
        configuration.embeddingDimensions = 32
        let response = try await withMockProvider(configuration) { port in
            try await MockClient.send(.init(path: "/v1/embeddings", body: #"{"model":"m","input":"x"}"#), port: port)
        }
        #expect((((response.json["data"] as? [[String: Any]])?.first?["embedding"]) as? [Double])?.count == 32)
    }
}

@Suite("Mock provider: Anthropic messages")
struct MockProviderMessagesTests {
    static let body =
        #"{"model":"claude-sonnet-4-5","max_tokens":256,"system":"You are terse.","#
        + #""messages":[{"role":"user","content":[{"type":"text","text":"Hello there gateway"}]}]}"#

    @Test func nonStreamingMessageHasTextAndUsage() async throws {
        let response = try await withMockProvider { port in
            try await MockClient.send(.init(path: "/v1/messages", body: Self.body), port: port)
        }
        #expect(response.status == 200)
        #expect(response.header("request-id")?.hasPrefix("req_") == true)
        let json = response.json
        #expect(json["type"] as? String == "message")
        #expect(json["role"] as? String == "assistant")
        #expect(json["model"] as? String == "claude-sonnet-4-5")
        #expect(json["stop_reason"] as? String == "end_turn")
        let content = try #require(json["content"] as? [[String: Any]])
        #expect(content.first?["text"] as? String == mockReply)
        let usage = try #require(json["usage"] as? [String: Any])
        #expect(mockInt(usage["input_tokens"]) == 6)
        #expect(mockInt(usage["output_tokens"]) == mockReplyWords)
        #expect(mockInt(usage["cache_read_input_tokens"]) == 0)
        #expect(mockInt(usage["cache_creation_input_tokens"]) == 0)
    }

    @Test func streamHasAnthropicEventSequence() async throws {
        let response = try await withMockProvider { port in
            try await MockClient.send(.init(path: "/v1/messages", body: mockStreaming(Self.body)), port: port)
        }
        #expect(response.complete)
        let names = response.events.compactMap(\.event)
        let expected =
            ["message_start", "content_block_start", "ping"]
            + Array(repeating: "content_block_delta", count: mockReplyWords)
            + ["content_block_stop", "message_delta", "message_stop"]
        #expect(names == expected)
        let objects = response.eventObjects
        #expect(zip(objects, names).allSatisfy { $0["type"] as? String == $1 })
        let start = try #require(objects.first?["message"] as? [String: Any])
        #expect(mockInt((start["usage"] as? [String: Any])?["input_tokens"]) == 6)
        let text = objects.compactMap { ($0["delta"] as? [String: Any])?["text"] as? String }.joined()
        #expect(text == mockReply)
        let delta = try #require(objects.first { $0["type"] as? String == "message_delta" })
        #expect(mockInt((delta["usage"] as? [String: Any])?["output_tokens"]) == mockReplyWords)
        #expect((delta["delta"] as? [String: Any])?["stop_reason"] as? String == "end_turn")
    }

    @Test func repeatedRequestsOnOneConnectionGetFreshRequestIDs() async throws {
        let request = MockClient.Request(path: "/v1/messages", body: mockStreaming(Self.body))
        let responses = try await withMockProvider { port in
            try await MockClient.send([request, request, request], port: port)
        }
        #expect(responses.count == 3)
        #expect(Set(responses.compactMap { $0.header("request-id") }).count == 3)
        #expect(responses.allSatisfy { $0.header("request-id") == $0.header("x-request-id") })
        #expect(responses.allSatisfy { $0.body == responses[0].body && $0.complete })
    }

    @Test func usageHeaderSplitsCacheReadsAndWrites() async throws {
        let response = try await withMockProvider { port in
            try await MockClient.send(
                .init(path: "/v1/messages", body: Self.body, headers: [("x-mock-usage", "cached=2, cache-write=3")]),
                port: port)
        }
        let usage = try #require(response.json["usage"] as? [String: Any])
        #expect(mockInt(usage["input_tokens"]) == 1)
        #expect(mockInt(usage["cache_read_input_tokens"]) == 2)
        #expect(mockInt(usage["cache_creation_input_tokens"]) == 3)
    }

    @Test func errorsUseAnthropicShape() async throws {
        let response = try await withMockProvider { port in
            try await MockClient.send(
                .init(path: "/v1/messages", body: Self.body, headers: [("x-mock-fault", "status=529")]), port: port)
        }
        #expect(response.status == 529)
        #expect(response.json["type"] as? String == "error")
        #expect((response.json["error"] as? [String: Any])?["type"] as? String == "overloaded_error")
    }
}
