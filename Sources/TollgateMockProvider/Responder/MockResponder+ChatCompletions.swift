import NIOCore

/// OpenAI `POST /v1/chat/completions`.
extension MockResponder {
    func chatCompletion(_ request: MockRequest, words: Reply, usage: Usage, allocator: ByteBufferAllocator)
        -> ByteBuffer
    {
        var body = allocator.buffer(capacity: 640 + words.text.utf8.count)
        body.writeStaticString(#"{"id":"chatcmpl-"#)
        body.writeIdentifier(request.fingerprint, salt: 1)
        body.writeStaticString(#"","object":"chat.completion","created":"#)
        body.writeDecimal(configuration.createdTimestamp)
        body.writeStaticString(#","model":"#)
        body.writeJSONString(request.model)
        body.writeStaticString(#","choices":[{"index":0,"message":{"role":"assistant","content":"#)
        body.writeJSONString(words.text)
        body.writeStaticString(#","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":"#)
        writeChatUsage(usage, into: &body)
        body.writeStaticString(#","service_tier":"default","system_fingerprint":"fp_tollgate"}"#)
        return body
    }

    /// Chunks: role, one per word, finish, then (with `include_usage`) an empty-choices usage chunk; `[DONE]`.
    func chatCompletionEvents(
        _ request: MockRequest, words: Reply, usage: Usage, allocator: ByteBufferAllocator
    ) -> [ByteBuffer] {
        let id = identifier(request.fingerprint, salt: 1)
        var events: [ByteBuffer] = []
        events.reserveCapacity(words.words.count + 4)
        func chunk(_ writeChoices: (inout ByteBuffer) -> Void) -> ByteBuffer {
            dataEvent(allocator) { body in
                body.writeStaticString(#"{"id":"chatcmpl-"#)
                body.writeString(id)
                body.writeStaticString(#"","object":"chat.completion.chunk","created":"#)
                body.writeDecimal(configuration.createdTimestamp)
                body.writeStaticString(#","model":"#)
                body.writeJSONString(request.model)
                body.writeStaticString(#","service_tier":"default","system_fingerprint":"fp_tollgate","choices":"#)
                writeChoices(&body)
                if request.includeUsage { body.writeStaticString(#","usage":null"#) }
                body.writeStaticString("}")
            }
        }
        events.append(
            chunk { body in
                body.writeStaticString(
                    #"[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}]"#
                )
            })
        for (index, word) in words.words.enumerated() {
            events.append(
                chunk { body in
                    body.writeStaticString(#"[{"index":0,"delta":{"content":"#)
                    body.writeJSONString(index == 0 ? word : " " + word)
                    body.writeStaticString(#"},"logprobs":null,"finish_reason":null}]"#)
                })
        }
        events.append(
            chunk { body in
                body.writeStaticString(#"[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]"#)
            })
        if request.includeUsage {
            events.append(
                dataEvent(allocator) { body in
                    body.writeStaticString(#"{"id":"chatcmpl-"#)
                    body.writeString(id)
                    body.writeStaticString(#"","object":"chat.completion.chunk","created":"#)
                    body.writeDecimal(configuration.createdTimestamp)
                    body.writeStaticString(#","model":"#)
                    body.writeJSONString(request.model)
                    body.writeStaticString(
                        #","service_tier":"default","system_fingerprint":"fp_tollgate","choices":[],"usage":"#)
                    writeChatUsage(usage, into: &body)
                    body.writeStaticString("}")
                })
        }
        var done = allocator.buffer(capacity: 16)
        done.writeStaticString("data: [DONE]\n\n")
        events.append(done)
        return events
    }

    func writeChatUsage(_ usage: Usage, into body: inout ByteBuffer) {
        body.writeStaticString(#"{"prompt_tokens":"#)
        body.writeDecimal(usage.input)
        body.writeStaticString(#","completion_tokens":"#)
        body.writeDecimal(usage.output)
        body.writeStaticString(#","total_tokens":"#)
        body.writeDecimal(usage.input + usage.output)
        body.writeStaticString(#","prompt_tokens_details":{"cached_tokens":"#)
        body.writeDecimal(usage.cached)
        if usage.cacheWrite > 0 {
            body.writeStaticString(#","cache_write_tokens":"#)
            body.writeDecimal(usage.cacheWrite)
        }
        body.writeStaticString(#","audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":"#)
        body.writeDecimal(usage.reasoning)
        body.writeStaticString(#","audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}"#)
    }
}
