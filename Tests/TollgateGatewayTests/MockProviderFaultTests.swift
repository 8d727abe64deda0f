import Foundation
import NIOCore
import NIOPosix
import Testing
import TollgateMockProvider

@Suite("Mock provider: faults, errors and connections")
struct MockProviderFaultTests {
    @Test func unknownPathAndWrongMethodAre404InOpenAIShape() async throws {
        let (unknown, wrongMethod) = try await withMockProvider { port in
            (
                try await MockClient.send(.init(path: "/v1/nope", body: mockChatBody), port: port),
                try await MockClient.send(.init(method: .GET, path: "/v1/chat/completions"), port: port)
            )
        }
        for response in [unknown, wrongMethod] {
            #expect(response.status == 404)
            let error = try #require(response.json["error"] as? [String: Any])
            #expect(error["type"] as? String == "invalid_request_error")
            #expect(error["message"] as? String != nil)
            #expect(error.keys.contains("param"))
            #expect(error.keys.contains("code"))
        }
        #expect((unknown.json["error"] as? [String: Any])?["message"] as? String == "Invalid URL (POST /v1/nope)")
        // A repeat with another method is not served from the previous exchange.
        let repeated = try await withMockProvider { port in
            try await MockClient.send(
                [
                    .init(path: "/v1/chat/completions", body: mockChatBody),
                    .init(method: .PUT, path: "/v1/chat/completions", body: mockChatBody),
                ], port: port)
        }
        #expect(repeated.map(\.status) == [200, 404])
    }

    @Test func invalidBodiesAre400() async throws {
        let responses = try await withMockProvider { port in
            try await MockClient.send(
                [
                    .init(path: "/v1/chat/completions", body: "{not json"),
                    .init(path: "/v1/chat/completions", body: #"{"messages":[]}"#),
                    .init(path: "/v1/embeddings", body: #"{"model":"m","input":[]}"#),
                    .init(path: "/v1/messages", body: "[1,2]"),
                ], port: port)
        }
        #expect(responses.map(\.status) == [400, 400, 400, 400])
        #expect(
            (responses[1].json["error"] as? [String: Any])?["message"] as? String
                == "you must provide a model parameter")
        #expect((responses[3].json["error"] as? [String: Any])?["type"] as? String == "invalid_request_error")
        #expect(responses[3].json["type"] as? String == "error")
    }

    /// What retry tests need: the first N requests with a key fail (with a `Retry-After`), the next succeed, and
    /// another key counts on its own.
    @Test func failFirstFailsTheFirstRequestsOfAKeyThenAnswers() async throws {
        let fault = ("x-mock-fault", "fail-first=2,status=503,retry-after=1")
        let responses = try await withMockProvider { port in
            try await MockClient.send(
                [
                    .init(path: "/v1/chat/completions", body: mockChatBody, headers: [fault, ("x-mock-key", "a")]),
                    .init(path: "/v1/chat/completions", body: mockChatBody, headers: [fault, ("x-mock-key", "b")]),
                    .init(path: "/v1/chat/completions", body: mockChatBody, headers: [fault, ("x-mock-key", "a")]),
                    .init(path: "/v1/chat/completions", body: mockChatBody, headers: [fault, ("x-mock-key", "a")]),
                    .init(path: "/v1/chat/completions", body: mockChatBody, headers: [fault, ("x-mock-key", "b")]),
                    .init(path: "/v1/chat/completions", body: mockChatBody, headers: [fault, ("x-mock-key", "b")]),
                ], port: port)
        }
        #expect(responses.map(\.status) == [503, 503, 503, 200, 503, 200])
        #expect(responses[0].header("retry-after") == "1")
        #expect(responses[3].header("retry-after") == nil)
    }

    @Test func statusFaultAnswersProviderShapedError() async throws {
        let response = try await withMockProvider { port in
            try await MockClient.send(
                .init(path: "/v1/chat/completions", body: mockChatBody, headers: [("x-mock-fault", "status=429")]),
                port: port)
        }
        #expect(response.status == 429)
        #expect(response.complete)
        let error = try #require(response.json["error"] as? [String: Any])
        #expect(error["code"] as? String == "rate_limit_exceeded")
        #expect(response.header("x-request-id") != nil)
    }

    @Test func closeFaultClosesWithoutAnswering() async throws {
        let responses = try await withMockProvider { port in
            try await MockClient.send(
                [.init(path: "/v1/chat/completions", body: mockChatBody, headers: [("x-mock-fault", "close")])],
                port: port)
        }
        #expect(responses.isEmpty)
    }

    @Test func delayFaultHoldsTheHead() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let response = try await withMockProvider { port in
            try await MockClient.send(
                .init(path: "/v1/chat/completions", body: mockChatBody, headers: [("x-mock-fault", "delay-ms=150")]),
                port: port)
        }
        #expect(response.status == 200)
        let headTime = try #require(response.headTime)
        #expect(headTime - start >= .milliseconds(150))
        #expect(response.header("openai-processing-ms") == "151")
    }

    @Test func chunkDelaySpacesTheEvents() async throws {
        let start = ContinuousClock.now
        let response = try await withMockProvider { port in
            try await MockClient.send(
                .init(
                    path: "/v1/chat/completions", body: mockStreaming(mockChatBody),
                    headers: [("x-mock-fault", "chunk-delay-ms=30"), ("x-mock-reply-words", "3")]),
                port: port)
        }
        #expect(response.complete)
        // 3 words: role chunk, 3 content chunks, finish chunk, [DONE] = 6 events, 5 gaps of 30 ms.
        #expect(response.events.count == 6)
        // A lower bound that load cannot break: the last event cannot leave before the five gaps have passed.
        // (Measuring between the first and last arrival is not: a late first read shortens the span.)
        let last = try #require(response.partTimes.last)
        #expect(last - start >= .milliseconds(150))
        #expect(response.partTimes.count >= 6)
    }

    @Test func cutStreamAfterNEventsLeavesTheStreamIncomplete() async throws {
        let responses = try await withMockProvider { port in
            try await MockClient.send(
                [
                    .init(
                        path: "/v1/messages", body: mockStreaming(MockProviderMessagesTests.body),
                        headers: [("x-mock-fault", "cut-stream-after=3")]),
                    .init(path: "/v1/chat/completions", body: mockChatBody),
                ], port: port)
        }
        #expect(responses.count == 1)
        let response = try #require(responses.first)
        #expect(response.status == 200)
        #expect(!response.complete)
        #expect(response.events.compactMap(\.event) == ["message_start", "content_block_start", "ping"])
    }

    @Test func cutStreamOnAJSONBodyCutsAfterNBytes() async throws {
        let response = try await withMockProvider { port in
            try await MockClient.send(
                .init(
                    path: "/v1/chat/completions", body: mockChatBody, headers: [("x-mock-fault", "cut-stream-after=20")]
                ),
                port: port)
        }
        #expect(response.status == 200)
        #expect(!response.complete)
        #expect(response.body.count == 20)
    }

    @Test func combinedFaultsApplyTogether() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let response = try await withMockProvider { port in
            try await MockClient.send(
                .init(
                    path: "/v1/responses", body: mockStreaming(MockProviderResponsesTests.body),
                    headers: [("x-mock-fault", "delay-ms=50, chunk-delay-ms=10, cut-stream-after=5")]),
                port: port)
        }
        #expect(!response.complete)
        #expect(response.events.count == 5)
        #expect(try #require(response.headTime) - start >= .milliseconds(50))
    }

    @Test func badDirectivesAre400() async throws {
        let responses = try await withMockProvider { port in
            try await MockClient.send(
                [
                    .init(path: "/v1/chat/completions", body: mockChatBody, headers: [("x-mock-fault", "explode")]),
                    .init(path: "/v1/chat/completions", body: mockChatBody, headers: [("x-mock-fault", "status=200")]),
                    .init(path: "/v1/chat/completions", body: mockChatBody, headers: [("x-mock-usage", "cached=x")]),
                    .init(path: "/v1/messages", body: mockChatBody, headers: [("x-mock-reply-words", "-1")]),
                ], port: port)
        }
        #expect(responses.map(\.status) == [400, 400, 400, 400])
        #expect(responses[3].json["type"] as? String == "error")
    }

    @Test func usageHeaderReportsCachedAndReasoningTokens() async throws {
        let (chat, responses) = try await withMockProvider { port in
            (
                try await MockClient.send(
                    .init(
                        path: "/v1/chat/completions", body: mockChatBody,
                        headers: [("x-mock-usage", "cached=5,reasoning=7")]), port: port),
                try await MockClient.send(
                    .init(
                        path: "/v1/responses", body: MockProviderResponsesTests.body,
                        headers: [("x-mock-usage", "cached=50,reasoning=2")]), port: port)
            )
        }
        let usage = try #require(chat.json["usage"] as? [String: Any])
        #expect(mockInt(usage["prompt_tokens"]) == mockChatInputTokens)
        #expect(mockInt((usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"]) == 5)
        #expect(mockInt(usage["completion_tokens"]) == mockReplyWords + 7)
        #expect(mockInt((usage["completion_tokens_details"] as? [String: Any])?["reasoning_tokens"]) == 7)
        let responsesUsage = try #require(responses.json["usage"] as? [String: Any])
        #expect(mockInt((responsesUsage["input_tokens_details"] as? [String: Any])?["cached_tokens"]) == 10)
        #expect(mockInt(responsesUsage["output_tokens"]) == mockReplyWords + 2)
    }

    @Test func replyWordsHeaderSetsTheOutputLength() async throws {
        let response = try await withMockProvider { port in
            try await MockClient.send(
                .init(
                    path: "/v1/chat/completions", body: mockStreaming(mockChatBody, includeUsage: true),
                    headers: [("x-mock-reply-words", "25")]), port: port)
        }
        let usage = try #require(response.eventObjects.last?["usage"] as? [String: Any])
        #expect(mockInt(usage["completion_tokens"]) == 25)
        #expect(response.eventObjects.count == 25 + 3)
    }

    @Test func keepAliveServesPipelinedRequestsInOrder() async throws {
        let responses = try await withMockProvider { port in
            try await MockClient.send(
                [
                    .init(path: "/v1/chat/completions", body: mockStreaming(mockChatBody)),
                    .init(path: "/v1/messages", body: MockProviderMessagesTests.body),
                    .init(path: "/v1/embeddings", body: #"{"model":"e","input":"x","dimensions":2}"#),
                ], port: port)
        }
        #expect(responses.count == 3)
        #expect(responses.allSatisfy { $0.complete && $0.status == 200 })
        #expect(responses[0].events.last?.data == "[DONE]")
        #expect(responses[1].json["type"] as? String == "message")
        #expect(responses[2].json["object"] as? String == "list")
    }

    @Test func connectionCloseRequestIsAnsweredThenClosed() async throws {
        let responses = try await withMockProvider { port in
            try await MockClient.send(
                [
                    .init(path: "/v1/chat/completions", body: mockChatBody, headers: [("connection", "close")]),
                    .init(path: "/v1/chat/completions", body: mockChatBody),
                ], port: port)
        }
        #expect(responses.count == 1)
        #expect(responses.first?.complete == true)
        #expect(responses.first?.header("connection") == "close")
    }

    @Test func oversizedBodyIs413() async throws {
        var configuration = MockProvider.Configuration()
        configuration.maximumBodySize = 64
        let response = try await withMockProvider(configuration) { port in
            try await MockClient.send(.init(path: "/v1/chat/completions", body: mockChatBody), port: port)
        }
        #expect(response.status == 413)
        #expect((response.json["error"] as? [String: Any])?["message"] as? String == "Request body too large.")
    }

    @Test func customReplyTextIsUsedAndCounted() async throws {
        var configuration = MockProvider.Configuration()
        configuration.replyText = "Short answer."
        let response = try await withMockProvider(configuration) { port in
            try await MockClient.send(.init(path: "/v1/messages", body: MockProviderMessagesTests.body), port: port)
        }
        #expect(((response.json["content"] as? [[String: Any]])?.first?["text"]) as? String == "Short answer.")
        #expect(mockInt((response.json["usage"] as? [String: Any])?["output_tokens"]) == 2)
    }

    @Test func startTwiceFailsAndShutdownIsIdempotent() async throws {
        let provider = MockProvider(group: MultiThreadedEventLoopGroup.singleton)
        let port = try await provider.start()
        #expect(port > 0)
        #expect(provider.port == port)
        await #expect(throws: MockProviderError.self) { try await provider.start() }
        try await provider.shutdown()
        try await provider.shutdown()
        #expect(provider.port == nil)
    }

    @Test func ownEventLoopGroupIsShutDown() async throws {
        let provider = MockProvider()
        let port = try await provider.start()
        let response = try await MockClient.send(.init(path: "/v1/chat/completions", body: mockChatBody), port: port)
        #expect(response.status == 200)
        try await provider.shutdown()
    }
}
