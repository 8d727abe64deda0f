import Testing

@testable import TollgateModel

@Suite("UsageParser")
struct UsageParserTests {
    func parse(_ text: String, eventStream: Bool = false) -> ResponseUsage {
        UsageParser.parse(body: Array(text.utf8), eventStream: eventStream)
    }

    @Test func openAIChatCountsCachedAndReasoningInsidePromptAndCompletion() {
        let r = parse(
            #"{"model":"o3","usage":{"prompt_tokens":100,"completion_tokens":50,"total_tokens":150,"prompt_tokens_details":{"cached_tokens":40},"completion_tokens_details":{"reasoning_tokens":30}},"service_tier":"priority"}"#
        )
        #expect(
            r.usage
                == Usage(tokensIn: 100, cachedTokensIn: 40, tokensOut: 50, reasoningTokens: 30, serviceTier: "priority")
        )
        #expect(r.model == "o3")
    }

    @Test func nullDetailsAndNullUsageAreUnknownNotZero() {
        #expect(parse(#"{"model":"x","usage":null}"#).usage == Usage())
        let r = parse(#"{"usage":{"prompt_tokens":3,"completion_tokens":4,"prompt_tokens_details":null}}"#)
        #expect(r.usage == Usage(tokensIn: 3, tokensOut: 4))
    }

    @Test func streamWithoutUsageIsUnknown() {
        let body = """
            data: {"id":"c","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"hi"}}]}

            data: [DONE]

            """
        let r = parse(body, eventStream: true)
        #expect(r.usage.isUnknown)
        #expect(r.usage.tokensIn == nil && r.usage.tokensOut == nil)
        #expect(r.model == "gpt-4o")
    }

    @Test func emptyAndGarbageBodiesAreUnknown() {
        for body in [
            "", " ", "[DONE]", "<html>502 Bad Gateway</html>", "{", "{\"usage\":{\"prompt_tokens\":", "null", "42",
        ] {
            #expect(parse(body).usage == Usage(), "\(body)")
            #expect(parse(body, eventStream: true).usage == Usage(), "\(body)")
        }
    }

    @Test func truncatedObjectKeepsMembersBeforeTheCut() {
        // The usage object is complete; the cut comes later, in a field Tollgate does not need.
        let r = parse(
            #"{"model":"m","usage":{"prompt_tokens":7,"completion_tokens":2},"choices":[{"message":{"content":"abc"#)
        #expect(r.usage == Usage(tokensIn: 7, tokensOut: 2))
        #expect(r.model == "m")
    }

    @Test func anthropicStreamTakesLatestNonNullOfEachField() {
        let body = """
            event: message_start
            data: {"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":10,"cache_read_input_tokens":5,"cache_creation_input_tokens":2,"output_tokens":1}}}

            event: message_delta
            data: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"input_tokens":null,"output_tokens":42}}

            """
        let r = parse(body, eventStream: true)
        #expect(r.usage == Usage(tokensIn: 17, cachedTokensIn: 5, cacheWriteTokens: 2, tokensOut: 42))
        #expect(r.model == "claude-x")
    }

    @Test func anthropicStreamCutBeforeMessageDeltaHasUnknownOutput() {
        let body = """
            event: message_start
            data: {"type":"message_start","message":{"model":"claude-x","usage":{"input_tokens":25,"output_tokens":1}}}

            event: content_block_delta
            data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hel
            """
        let r = parse(body, eventStream: true)
        #expect(r.usage.tokensIn == 25)
        #expect(r.usage.tokensOut == nil)
    }

    @Test func anthropicCacheSplitWithoutTotalIsSummed() {
        let r = parse(
            #"{"usage":{"input_tokens":1,"cache_creation":{"ephemeral_5m_input_tokens":10,"ephemeral_1h_input_tokens":20},"output_tokens":3}}"#
        )
        #expect(r.usage.cacheWriteTokens == 30)
        #expect(r.usage.cacheWrite1hTokens == 20)
        // Without cache_creation_input_tokens Anthropic adds nothing to tokens_in beyond what it reported.
        #expect(r.usage.tokensIn == 1)
    }

    @Test func responsesStreamUsesTerminalEventAndIgnoresCreated() {
        let body = """
            event: response.created
            data: {"type":"response.created","response":{"model":"gpt-5","service_tier":"auto","usage":null}}

            event: response.failed
            data: {"type":"response.failed","response":{"model":"gpt-5","status":"failed","service_tier":"default","usage":{"input_tokens":12,"input_tokens_details":{"cached_tokens":0},"output_tokens":0,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":12}}}

            """
        let r = parse(body, eventStream: true)
        #expect(
            r.usage == Usage(tokensIn: 12, cachedTokensIn: 0, tokensOut: 0, reasoningTokens: 0, serviceTier: "default"))
    }

    @Test func embeddingsReportZeroOutputBecauseTotalEqualsPrompt() {
        let r = parse(
            #"{"object":"list","model":"text-embedding-3-large","usage":{"prompt_tokens":5,"total_tokens":5}}"#)
        #expect(r.usage.tokensIn == 5)
        #expect(r.usage.tokensOut == 0)
        // No total: nothing says how many output tokens there were.
        #expect(parse(#"{"usage":{"prompt_tokens":5}}"#).usage.tokensOut == nil)
    }

    @Test func xaiReasoningOutsideCompletionIsAdded() {
        let separate = parse(
            #"{"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":35,"completion_tokens_details":{"reasoning_tokens":20}}}"#
        )
        #expect(separate.usage.tokensOut == 25)
        let inside = parse(
            #"{"usage":{"prompt_tokens":10,"completion_tokens":25,"total_tokens":35,"completion_tokens_details":{"reasoning_tokens":20}}}"#
        )
        #expect(inside.usage.tokensOut == 25)
    }

    @Test func geminiCountsThoughtsAsOutputAndCachedContentAsCachedInput() {
        let r = parse(
            #"{"usageMetadata":{"promptTokenCount":100,"cachedContentTokenCount":60,"candidatesTokenCount":10,"thoughtsTokenCount":20,"toolUsePromptTokenCount":5,"totalTokenCount":135},"modelVersion":"gemini-2.5-pro"}"#
        )
        #expect(r.usage == Usage(tokensIn: 105, cachedTokensIn: 60, tokensOut: 30, reasoningTokens: 20))
        #expect(r.model == "gemini-2.5-pro")
        // A blocked prompt: no candidates, output is what the total leaves.
        let blocked = parse(
            #"{"promptFeedback":{"blockReason":"SAFETY"},"usageMetadata":{"promptTokenCount":8,"totalTokenCount":8}}"#)
        #expect(blocked.usage.tokensIn == 8 && blocked.usage.tokensOut == 0)
    }

    @Test func geminiArrayStreamTakesTheLastChunk() {
        let body =
            #"[{"usageMetadata":{"promptTokenCount":4,"totalTokenCount":4}},{"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":9,"totalTokenCount":13}}]"#
        #expect(parse(body).usage == Usage(tokensIn: 4, tokensOut: 9))
        // Cut after the first chunk: what was complete still counts.
        #expect(parse(String(body.prefix(61))).usage == Usage(tokensIn: 4, tokensOut: 0))
        // Cut inside a count: the partial number is not taken for the real one.
        #expect(parse(#"{"usage":{"prompt_tokens":1234"#).usage.tokensIn == nil)
        #expect(parse(#"{"usage":{"prompt_tokens":12"#).usage.tokensIn == nil)
    }

    @Test func groqXGroqUsageIsAFallbackOnly() {
        let onlyGroq = parse(
            "data: {\"x_groq\":{\"id\":\"r\",\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4,\"total_tokens\":7}}}\n\n",
            eventStream: true)
        #expect(onlyGroq.usage == Usage(tokensIn: 3, tokensOut: 4))
        let both = parse(
            #"{"usage":{"prompt_tokens":30,"completion_tokens":40},"x_groq":{"usage":{"prompt_tokens":3,"completion_tokens":4}}}"#
        )
        #expect(both.usage == Usage(tokensIn: 30, tokensOut: 40))
    }

    /// A stream's model is the first one named: events with a null or empty model do not take it, later events that
    /// name another do not replace it; the same whole or fed to the scanner a few bytes at a time.
    @Test func aStreamsModelIsTheFirstNamed() {
        let events = [
            #"{"model":null,"choices":[]}"#, #"{"model":"","choices":[]}"#, #"{"modelVersion":"first"}"#,
            #"{"model":"second","usage":{"prompt_tokens":2,"completion_tokens":3}}"#,
        ]
        let body = events.map { "data: \($0)\n\n" }.joined()
        let parsed = parse(body, eventStream: true)
        #expect(parsed.model == "first")
        #expect(parsed.usage == Usage(tokensIn: 2, tokensOut: 3))
        for chunk in [1, 7, body.utf8.count] {
            var scanner = ResponseUsageScanner(eventStream: true)
            let bytes = Array(body.utf8)
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + chunk)
                bytes[start..<end].withUnsafeBytes { scanner.feed($0) }
                start = end
            }
            #expect(scanner.finish() == parsed, "chunks of \(chunk)")
        }
        // A JSON array of chunks (Gemini without `alt=sse`): the same.
        #expect(parse("[" + events.joined(separator: ",") + "]").model == "first")
    }

    /// Hugging Face text-generation-inference streams one event per token with `"details":null`; the last event's
    /// `details` has the prompt (`input_length`) and generated (`generated_tokens`) counts. Read as the events pass,
    /// cut anywhere, and only when no `usage` reported the counts.
    @Test func textGenerationInferenceStreamTakesTheLastEventsDetails() {
        let stream = """
            data:{"index":1,"token":{"id":203,"text":"\\n","logprob":-0.12,"special":false},"generated_text":null,"details":null}

            data:{"index":2,"token":{"id":44,"text":":","logprob":-0.01,"special":false},"generated_text":"\\n:","details":{"finish_reason":"length","generated_tokens":2,"input_length":5,"seed":null}}


            """
        let parsed = parse(stream, eventStream: true)
        #expect(parsed.usage == Usage(tokensIn: 5, tokensOut: 2))
        for size in UsageScannerTests.chunkSizes {
            #expect(UsageScannerTests.scanResponse(Array(stream.utf8), eventStream: true, chunk: size) == parsed)
        }
        // Cut before the last event: nothing reported the counts, so they are unknown, not zero.
        let cut = String(stream.prefix(upTo: stream.range(of: "data:{\"index\":2")!.lowerBound))
        #expect(parse(cut, eventStream: true).usage == Usage())
        // The non-streamed answer (`[{"generated_text":…,"details":{…}}]`) reads the same way.
        let array =
            #"[{"generated_text":"x","details":{"finish_reason":"eos_token","generated_tokens":7,"seed":null}}]"#
        #expect(parse(array).usage == Usage(tokensOut: 7))
        #expect(UsageScannerTests.scanResponse(Array(array.utf8), eventStream: false, chunk: 3) == parse(array))
        // A reported `usage` wins.
        let both =
            #"{"usage":{"prompt_tokens":30,"completion_tokens":40},"details":{"generated_tokens":2,"input_length":5}}"#
        #expect(parse(both).usage == Usage(tokensIn: 30, tokensOut: 40))
    }

    @Test func bodyThatIsAnEventStreamIsReadAsOneWhateverTheContentType() {
        let body = "data: {\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n"
        #expect(parse(body, eventStream: false).usage == Usage(tokensIn: 1, tokensOut: 2))
    }

    @Test func oddCountValuesAreSkippedNotTrusted() {
        let r = parse(
            #"{"usage":{"prompt_tokens":-4,"completion_tokens":"12","total_tokens":1e400,"prompt_tokens_details":{"cached_tokens":3.0}}}"#
        )
        #expect(r.usage.tokensIn == nil)
        #expect(r.usage.tokensOut == nil)
        #expect(r.usage.cachedTokensIn == 3)
        #expect(parse(#"{"usage":{"prompt_tokens":99999999999999999999999}}"#).usage.tokensIn == nil)
    }

    @Test func deepNestingIsRejectedWithoutExhaustingTheStack() {
        let deep = String(repeating: "[", count: 200_000) + String(repeating: "]", count: 200_000)
        #expect(parse(deep).usage == Usage())
        let deepObjects =
            String(repeating: #"{"response":"#, count: 50_000) + "1" + String(repeating: "}", count: 50_000)
        #expect(parse(deepObjects).usage == Usage())
    }

    @Test func randomGarbageNeverTraps() {
        var rng = SplitMix64(seed: 42)
        let alphabet = Array(#"{}[]:,"\ 0123456789-+.eEtrufalsnData:usage_tokens\#n\#r"#.utf8)
        for _ in 0..<3000 {
            let length = Int(rng.next() % 200)
            var body: [UInt8] = []
            for _ in 0..<length {
                body.append(
                    rng.next() % 4 == 0
                        ? UInt8(truncatingIfNeeded: rng.next()) : alphabet[Int(rng.next() % UInt64(alphabet.count))])
            }
            let usage = UsageParser.parse(body: body, eventStream: rng.next() % 2 == 0).usage
            #expect(FixtureTests.nonNegative(usage))
        }
    }
}
