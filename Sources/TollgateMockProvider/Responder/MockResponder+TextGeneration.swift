import NIOCore

/// Hugging Face's Inference API text-generation task, `POST /models/{model}` with `{"inputs":…}`, shaped after the
/// task's output in Hugging Face's task specifications (`@huggingface/tasks`): `[{"generated_text":…}]`, no counts.
/// A stream (`"stream": true`) is text-generation-inference's `TextGenerationStreamOutput`: one
/// `data:{"index":…,"token":{…},"generated_text":null,"details":null}` event per word, the last with the whole
/// `generated_text` and `details` (`finish_reason`, `generated_tokens`, `input_length`, `seed`); no `[DONE]`.
extension MockResponder {
    func textGeneration(_ request: MockRequest, words: Reply, allocator: ByteBufferAllocator) -> ByteBuffer {
        var body = allocator.buffer(capacity: 32 + words.text.utf8.count)
        body.writeStaticString(#"[{"generated_text":"#)
        body.writeJSONString(words.text)
        body.writeStaticString("}]")
        return body
    }

    func textGenerationEvents(_ request: MockRequest, words: Reply, usage: Usage, allocator: ByteBufferAllocator)
        -> [ByteBuffer]
    {
        var events: [ByteBuffer] = []
        events.reserveCapacity(words.words.count)
        for (index, word) in words.words.enumerated() {
            let last = index == words.words.count - 1
            events.append(
                dataEvent(allocator) { body in
                    body.writeStaticString(#"{"index":"#)
                    body.writeDecimal(index + 1)
                    body.writeStaticString(#","token":{"id":"#)
                    body.writeDecimal(Int(Self.mix(request.fingerprint &+ UInt64(index)) % 32_000))
                    body.writeStaticString(#","text":"#)
                    body.writeJSONString(index == 0 ? word : " " + word)
                    body.writeStaticString(#","logprob":-0.25,"special":false},"generated_text":"#)
                    guard last else {
                        body.writeStaticString(#"null,"details":null}"#)
                        return
                    }
                    body.writeJSONString(words.text)
                    body.writeStaticString(#","details":{"finish_reason":"length","generated_tokens":"#)
                    body.writeDecimal(usage.output)
                    body.writeStaticString(#","input_length":"#)
                    body.writeDecimal(usage.input)
                    body.writeStaticString(#","seed":null}}"#)
                })
        }
        return events
    }
}
