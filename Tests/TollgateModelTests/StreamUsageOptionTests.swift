import Testing

@testable import TollgateModel

@Suite("Stream usage option")
struct StreamUsageOptionTests {
    func rewrite(_ body: String) -> String? {
        Array(body.utf8).withUnsafeBufferPointer { StreamUsageOption.requestingUsage($0) }
            .map { String(decoding: $0, as: UTF8.self) }
    }

    func usageOnly(_ event: String) -> Bool {
        Array(event.utf8).withUnsafeBufferPointer { StreamUsageOption.isUsageOnlyEvent($0) }
    }

    @Test func addsStreamOptionsToAStreamWithoutThem() throws {
        let body = #"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#
        let rewritten = try #require(rewrite(body))
        #expect(
            rewritten
                == #"{"stream_options":{"include_usage":true},"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#
        )
        let json = try JSONParser.parse(rewritten)
        #expect(json["stream_options"]?["include_usage"]?.boolValue == true)
    }

    /// Most requests never spell `stream` and are left alone without their JSON being read; one that spells it
    /// only through an escape is still read, as the provider will read it.
    @Test func aStreamFlagSpelledWithAnEscapeIsStillSeen() {
        #expect(rewrite(#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#) == nil)
        #expect(
            rewrite(#"{"\u0073tream":true,"model":"m"}"#)
                == #"{"stream_options":{"include_usage":true},"\u0073tream":true,"model":"m"}"#)
        #expect(rewrite(#"{"\u0073tream":false,"model":"m"}"#) == nil)
    }

    @Test func keepsOtherStreamOptionKeys() {
        #expect(
            rewrite(#"{"stream":true,"stream_options":{"obfuscation":false}}"#)
                == #"{"stream":true,"stream_options":{"include_usage":true,"obfuscation":false}}"#)
        #expect(
            rewrite(#"{"stream":true,"stream_options":{ }}"#)
                == #"{"stream":true,"stream_options":{"include_usage":true }}"#)
        #expect(
            rewrite(#"{"stream_options":null,"stream":true}"#)
                == #"{"stream_options":{"include_usage":true},"stream":true}"#)
    }

    @Test func turnsIncludeUsageFalseIntoTrue() {
        #expect(
            rewrite(#"{"stream":true,"stream_options":{"include_usage":false,"x":1}}"#)
                == #"{"stream":true,"stream_options":{"include_usage":true,"x":1}}"#)
        #expect(
            rewrite(#"{"stream": true, "stream_options": {"include_usage": null}}"#)
                == #"{"stream": true, "stream_options": {"include_usage": true}}"#)
    }

    @Test func leavesEverythingElseAlone() {
        // Asked already, not a stream, not JSON, odd shapes.
        #expect(rewrite(#"{"stream":true,"stream_options":{"include_usage":true}}"#) == nil)
        #expect(rewrite(#"{"model":"gpt-4o-mini","messages":[]}"#) == nil)
        #expect(rewrite(#"{"stream":false}"#) == nil)
        #expect(rewrite(#"{"stream":"true"}"#) == nil)
        #expect(rewrite(#"[{"stream":true}]"#) == nil)
        #expect(rewrite(#"{"stream":true"#) == nil)
        #expect(rewrite(#"{"stream":true} trailing"#) == nil)
        #expect(rewrite(#"{"stream":true,"stream_options":"yes"}"#) == nil)
        #expect(rewrite(#"{"stream":true,"stream_options":{},"stream_options":{}}"#) == nil)
        #expect(rewrite("") == nil)
        #expect(rewrite("stream=true") == nil)
    }

    @Test func recognisesOnlyTheUsageOnlyChunk() {
        let usage =
            #"data: {"id":"c","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2}}"#
        #expect(usageOnly(usage + "\n\n"))
        #expect(usageOnly(usage))
        #expect(usageOnly(#"data: {"choices": [ ], "usage": {}}"# + "\r\n\r\n"))
        // Content chunks (with or without a usage member), [DONE], comments, other providers' events.
        #expect(!usageOnly(#"data: {"choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null}"# + "\n\n"))
        #expect(!usageOnly(#"data: {"choices":[{"index":0,"delta":{}}],"usage":{"prompt_tokens":3}}"# + "\n\n"))
        #expect(!usageOnly(#"data: {"choices":[],"usage":null}"# + "\n\n"))
        #expect(!usageOnly(#"data: {"choices":[]}"# + "\n\n"))
        #expect(!usageOnly("data: [DONE]\n\n"))
        #expect(!usageOnly(": keep-alive\n\n"))
        #expect(!usageOnly(#"event: message_delta"# + "\n" + #"data: {"type":"message_delta","usage":{}}"# + "\n\n"))
        #expect(!usageOnly(#"data: {"choices":[],"usage":{}"# + "\n\n"))
    }
}
