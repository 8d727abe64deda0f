import NIOCore

/// Anthropic `POST /v1/messages`.
extension MockResponder {
    func message(_ request: MockRequest, words: Reply, usage: Usage, allocator: ByteBufferAllocator) -> ByteBuffer {
        var body = allocator.buffer(capacity: 512 + words.text.utf8.count)
        body.writeStaticString(#"{"id":"msg_01"#)
        body.writeIdentifier(request.fingerprint, salt: 4)
        body.writeStaticString(#"","type":"message","role":"assistant","model":"#)
        body.writeJSONString(request.model)
        body.writeStaticString(#","content":[{"type":"text","text":"#)
        body.writeJSONString(words.text)
        body.writeStaticString(#"}],"stop_reason":"end_turn","stop_sequence":null,"usage":"#)
        writeMessageUsage(usage, outputTokens: usage.output, into: &body)
        body.writeStaticString("}")
        return body
    }

    /// `message_start` (input usage, `output_tokens: 1`), `content_block_start`, `ping`, one `content_block_delta`
    /// per word, `content_block_stop`, `message_delta` (final output usage), `message_stop`.
    func messageEvents(_ request: MockRequest, words: Reply, usage: Usage, allocator: ByteBufferAllocator)
        -> [ByteBuffer]
    {
        var events: [ByteBuffer] = []
        events.reserveCapacity(words.words.count + 6)
        events.append(
            namedEvent("message_start", allocator) { body in
                body.writeStaticString(#"{"type":"message_start","message":{"id":"msg_01"#)
                body.writeIdentifier(request.fingerprint, salt: 4)
                body.writeStaticString(#"","type":"message","role":"assistant","model":"#)
                body.writeJSONString(request.model)
                body.writeStaticString(#","content":[],"stop_reason":null,"stop_sequence":null,"usage":"#)
                writeMessageUsage(usage, outputTokens: min(1, usage.output), into: &body)
                body.writeStaticString("}}")
            })
        events.append(
            namedEvent("content_block_start", allocator) { body in
                body.writeStaticString(
                    #"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#)
            })
        events.append(
            namedEvent("ping", allocator) { body in
                body.writeStaticString(#"{"type": "ping"}"#)
            })
        for (index, word) in words.words.enumerated() {
            events.append(
                namedEvent("content_block_delta", allocator) { body in
                    body.writeStaticString(
                        #"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"#)
                    body.writeJSONString(index == 0 ? word : " " + word)
                    body.writeStaticString("}}")
                })
        }
        events.append(
            namedEvent("content_block_stop", allocator) { body in
                body.writeStaticString(#"{"type":"content_block_stop","index":0}"#)
            })
        events.append(
            namedEvent("message_delta", allocator) { body in
                body.writeStaticString(
                    #"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":"#
                )
                body.writeDecimal(usage.output)
                body.writeStaticString("}}")
            })
        events.append(
            namedEvent("message_stop", allocator) { body in
                body.writeStaticString(#"{"type":"message_stop"}"#)
            })
        return events
    }

    /// Anthropic's split: `input_tokens` excludes cache reads and cache writes.
    func writeMessageUsage(_ usage: Usage, outputTokens: Int, into body: inout ByteBuffer) {
        body.writeStaticString(#"{"input_tokens":"#)
        body.writeDecimal(usage.input - usage.cached - usage.cacheWrite)
        body.writeStaticString(#","cache_creation_input_tokens":"#)
        body.writeDecimal(usage.cacheWrite)
        if usage.cacheWrite1h > 0 {
            body.writeStaticString(#","cache_creation":{"ephemeral_5m_input_tokens":"#)
            body.writeDecimal(usage.cacheWrite - usage.cacheWrite1h)
            body.writeStaticString(#","ephemeral_1h_input_tokens":"#)
            body.writeDecimal(usage.cacheWrite1h)
            body.writeStaticString("}")
        }
        body.writeStaticString(#","cache_read_input_tokens":"#)
        body.writeDecimal(usage.cached)
        body.writeStaticString(#","output_tokens":"#)
        body.writeDecimal(outputTokens)
        body.writeStaticString(#","service_tier":"standard"}"#)
    }
}
