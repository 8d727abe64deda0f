import NIOCore

/// Workers AI's REST `POST /client/v4/accounts/{account_id}/ai/run/{model}`, plain and streamed, shaped after
/// Cloudflare's REST envelope (developers.cloudflare.com/workers-ai/get-started/rest-api/):
/// `{"result":{"response":…,"tool_calls":[],"usage":{…}},"success":true,"errors":[],"messages":[]}`. A stream
/// (`"stream": true`) is one `data: {"response":"…","p":"…"}` event per word, then
/// `data: {"response":"","usage":{…}}` and `data: [DONE]`; the events carry no envelope.
extension MockResponder {
    func workersAIRun(_ request: MockRequest, words: Reply, usage: Usage, allocator: ByteBufferAllocator) -> ByteBuffer
    {
        var body = allocator.buffer(capacity: 256 + words.text.utf8.count)
        body.writeStaticString(#"{"result":{"response":"#)
        body.writeJSONString(words.text)
        body.writeStaticString(#","tool_calls":[],"usage":"#)
        writeWorkersAIUsage(usage, into: &body)
        body.writeStaticString(#"},"success":true,"errors":[],"messages":[]}"#)
        return body
    }

    func workersAIRunEvents(_ request: MockRequest, words: Reply, usage: Usage, allocator: ByteBufferAllocator)
        -> [ByteBuffer]
    {
        var events: [ByteBuffer] = []
        events.reserveCapacity(words.words.count + 2)
        for (index, word) in words.words.enumerated() {
            events.append(
                dataEvent(allocator) { body in
                    body.writeStaticString(#"{"response":"#)
                    body.writeJSONString(index == 0 ? word : " " + word)
                    // Workers AI pads events with a `p` member of varying length.
                    body.writeStaticString(#","p":"abcdefgh"}"#)
                })
        }
        events.append(
            dataEvent(allocator) { body in
                body.writeStaticString(#"{"response":"","usage":"#)
                writeWorkersAIUsage(usage, into: &body)
                body.writeStaticString("}")
            })
        var done = allocator.buffer(capacity: 16)
        done.writeStaticString("data: [DONE]\n\n")
        events.append(done)
        return events
    }

    func writeWorkersAIUsage(_ usage: Usage, into body: inout ByteBuffer) {
        body.writeStaticString(#"{"prompt_tokens":"#)
        body.writeDecimal(usage.input)
        body.writeStaticString(#","completion_tokens":"#)
        body.writeDecimal(usage.output)
        body.writeStaticString(#","total_tokens":"#)
        body.writeDecimal(usage.input + usage.output)
        body.writeStaticString("}")
    }
}
