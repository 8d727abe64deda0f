import NIOCore

/// OpenAI `POST /v1/responses`.
extension MockResponder {
    func response(_ request: MockRequest, words: Reply, usage: Usage, allocator: ByteBufferAllocator) -> ByteBuffer {
        var body = allocator.buffer(capacity: 1200 + words.text.utf8.count)
        writeResponseObject(request, words: words, usage: usage, completed: true, into: &body)
        return body
    }

    /// `response.created`, `response.in_progress`, item and content part added, one `response.output_text.delta`
    /// per word, the matching `done` events and `response.completed` (with usage), each with a `sequence_number`.
    func responseEvents(_ request: MockRequest, words: Reply, usage: Usage, allocator: ByteBufferAllocator)
        -> [ByteBuffer]
    {
        let itemID = "msg_" + identifier(request.fingerprint, salt: 3)
        var events: [ByteBuffer] = []
        events.reserveCapacity(words.words.count + 8)
        func event(_ type: String, _ writeFields: (inout ByteBuffer) -> Void) {
            let sequence = events.count
            events.append(
                namedEvent(type, allocator) { body in
                    body.writeStaticString(#"{"type":"#)
                    body.writeJSONString(type)
                    body.writeStaticString(#","sequence_number":"#)
                    body.writeDecimal(sequence)
                    writeFields(&body)
                    body.writeStaticString("}")
                })
        }
        func itemLocation(_ body: inout ByteBuffer) {
            body.writeStaticString(#","item_id":"#)
            body.writeJSONString(itemID)
            body.writeStaticString(#","output_index":0,"content_index":0"#)
        }
        event("response.created") { body in
            body.writeStaticString(#","response":"#)
            writeResponseObject(request, words: words, usage: usage, completed: false, into: &body)
        }
        event("response.in_progress") { body in
            body.writeStaticString(#","response":"#)
            writeResponseObject(request, words: words, usage: usage, completed: false, into: &body)
        }
        event("response.output_item.added") { body in
            body.writeStaticString(#","output_index":0,"item":{"id":"#)
            body.writeJSONString(itemID)
            body.writeStaticString(#","type":"message","status":"in_progress","content":[],"role":"assistant"}"#)
        }
        event("response.content_part.added") { body in
            itemLocation(&body)
            body.writeStaticString(#","part":{"type":"output_text","annotations":[],"logprobs":[],"text":""}"#)
        }
        for (index, word) in words.words.enumerated() {
            event("response.output_text.delta") { body in
                itemLocation(&body)
                body.writeStaticString(#","delta":"#)
                body.writeJSONString(index == 0 ? word : " " + word)
                body.writeStaticString(#","logprobs":[]"#)
            }
        }
        event("response.output_text.done") { body in
            itemLocation(&body)
            body.writeStaticString(#","text":"#)
            body.writeJSONString(words.text)
            body.writeStaticString(#","logprobs":[]"#)
        }
        event("response.content_part.done") { body in
            itemLocation(&body)
            body.writeStaticString(#","part":"#)
            writeOutputText(words, into: &body)
        }
        event("response.output_item.done") { body in
            body.writeStaticString(#","output_index":0,"item":"#)
            writeOutputMessage(itemID: itemID, words: words, into: &body)
        }
        event("response.completed") { body in
            body.writeStaticString(#","response":"#)
            writeResponseObject(request, words: words, usage: usage, completed: true, into: &body)
        }
        return events
    }

    /// The response object: `in_progress` with no output and `usage: null`, or `completed` with both.
    func writeResponseObject(
        _ request: MockRequest, words: Reply, usage: Usage, completed: Bool, into body: inout ByteBuffer
    ) {
        body.writeStaticString(#"{"id":"resp_"#)
        body.writeIdentifier(request.fingerprint, salt: 2)
        body.writeStaticString(#"","object":"response","created_at":"#)
        body.writeDecimal(configuration.createdTimestamp)
        if completed {
            body.writeStaticString(#","status":"completed","background":false,"completed_at":"#)
            body.writeDecimal(configuration.createdTimestamp + 1)
        } else {
            body.writeStaticString(#","status":"in_progress","background":false,"completed_at":null"#)
        }
        body.writeStaticString(#","error":null,"incomplete_details":null,"instructions":"#)
        if let instructions = request.instructions {
            body.writeJSONString(instructions)
        } else {
            body.writeStaticString("null")
        }
        body.writeStaticString(#","max_output_tokens":null,"model":"#)
        body.writeJSONString(request.model)
        body.writeStaticString(#","output":["#)
        if completed {
            writeOutputMessage(itemID: "msg_" + identifier(request.fingerprint, salt: 3), words: words, into: &body)
        }
        body.writeString(Self.responseSettings)
        if completed {
            body.writeStaticString(#"{"input_tokens":"#)
            body.writeDecimal(usage.input)
            body.writeStaticString(#","input_tokens_details":{"cached_tokens":"#)
            body.writeDecimal(usage.cached)
            body.writeStaticString(#"},"output_tokens":"#)
            body.writeDecimal(usage.output)
            body.writeStaticString(#","output_tokens_details":{"reasoning_tokens":"#)
            body.writeDecimal(usage.reasoning)
            body.writeStaticString(#"},"total_tokens":"#)
            body.writeDecimal(usage.input + usage.output)
            body.writeStaticString("}")
        } else {
            body.writeStaticString("null")
        }
        body.writeStaticString(#","user":null,"metadata":{}}"#)
    }

    private static let responseSettings =
        #"],"parallel_tool_calls":true,"previous_response_id":null,"reasoning":{"effort":null,"summary":null},"#
        + #""service_tier":"default","store":true,"temperature":1.0,"text":{"format":{"type":"text"},"#
        + #""verbosity":"medium"},"tool_choice":"auto","tools":[],"top_p":1.0,"truncation":"disabled","usage":"#

    func writeOutputMessage(itemID: String, words: Reply, into body: inout ByteBuffer) {
        body.writeStaticString(#"{"id":"#)
        body.writeJSONString(itemID)
        body.writeStaticString(#","type":"message","status":"completed","content":["#)
        writeOutputText(words, into: &body)
        body.writeStaticString(#"],"role":"assistant"}"#)
    }

    func writeOutputText(_ words: Reply, into body: inout ByteBuffer) {
        body.writeStaticString(#"{"type":"output_text","annotations":[],"logprobs":[],"text":"#)
        body.writeJSONString(words.text)
        body.writeStaticString("}")
    }
}
