import NIOCore

/// Cohere v2 `POST /v2/chat`, plain and streamed, shaped after Cohere's chat reference (docs.cohere.com/reference/chat,
/// docs.cohere.com/reference/chat-stream): `usage.billed_units` holds the billed counts and `usage.tokens` what the
/// model processed, the prompt template Cohere wraps around the messages included. A stream is `message-start`,
/// `content-start`, one `content-delta` per word, `content-end` and `message-end`, whose `delta.usage` is the
/// usage.
extension MockResponder {
    /// Tokens of the prompt template the mock counts in `usage.tokens` but does not bill.
    static let cohereTemplateTokens = 66

    func cohereChat(_ request: MockRequest, words: Reply, usage: Usage, allocator: ByteBufferAllocator) -> ByteBuffer {
        var body = allocator.buffer(capacity: 384 + words.text.utf8.count)
        body.writeStaticString(#"{"id":""#)
        body.writeIdentifier(request.fingerprint, salt: 7)
        body.writeStaticString(
            #"","finish_reason":"COMPLETE","message":{"role":"assistant","content":[{"type":"text","text":"#)
        body.writeJSONString(words.text)
        body.writeStaticString(#"}]},"usage":"#)
        writeCohereUsage(usage, into: &body)
        body.writeStaticString("}")
        return body
    }

    func cohereChatEvents(_ request: MockRequest, words: Reply, usage: Usage, allocator: ByteBufferAllocator)
        -> [ByteBuffer]
    {
        var events: [ByteBuffer] = []
        events.reserveCapacity(words.words.count + 4)
        events.append(
            namedEvent("message-start", allocator) { body in
                body.writeStaticString(#"{"id":""#)
                body.writeIdentifier(request.fingerprint, salt: 7)
                body.writeStaticString(
                    #"","type":"message-start","delta":{"message":{"role":"assistant","content":[],"tool_plan":"","tool_calls":[],"citations":[]}}}"#
                )
            })
        events.append(
            namedEvent("content-start", allocator) { body in
                body.writeStaticString(
                    #"{"type":"content-start","index":0,"delta":{"message":{"content":{"type":"text","text":""}}}}"#)
            })
        for (index, word) in words.words.enumerated() {
            events.append(
                namedEvent("content-delta", allocator) { body in
                    body.writeStaticString(#"{"type":"content-delta","index":0,"delta":{"message":{"content":{"text":"#)
                    body.writeJSONString(index == 0 ? word : " " + word)
                    body.writeStaticString("}}}}")
                })
        }
        events.append(
            namedEvent("content-end", allocator) { body in
                body.writeStaticString(#"{"type":"content-end","index":0}"#)
            })
        events.append(
            namedEvent("message-end", allocator) { body in
                body.writeStaticString(#"{"type":"message-end","delta":{"finish_reason":"COMPLETE","usage":"#)
                writeCohereUsage(usage, into: &body)
                body.writeStaticString("}}")
            })
        return events
    }

    func writeCohereUsage(_ usage: Usage, into body: inout ByteBuffer) {
        body.writeStaticString(#"{"billed_units":{"input_tokens":"#)
        body.writeDecimal(usage.input)
        body.writeStaticString(#","output_tokens":"#)
        body.writeDecimal(usage.output)
        body.writeStaticString(#"},"tokens":{"input_tokens":"#)
        body.writeDecimal(usage.input + Self.cohereTemplateTokens)
        body.writeStaticString(#","output_tokens":"#)
        body.writeDecimal(usage.output)
        body.writeStaticString("}}")
    }
}
