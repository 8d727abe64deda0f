import NIOCore
import NIOHTTP1
import TollgateModel

/// AWS Bedrock runtime: `Converse` JSON, `ConverseStream` and `InvokeModelWithResponseStream` as AWS event streams
/// (`application/vnd.amazon.eventstream`), `InvokeModel` with an Anthropic body — shapes from the Bedrock API
/// reference (docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html, API_runtime_ConverseStream.html,
/// API_runtime_InvokeModelWithResponseStream.html). Errors are AWS's JSON protocol errors: `{"message": …}` with the
/// exception's name in `x-amzn-errortype`.
extension MockResponder {
    static let bedrockJSONHeaders = HTTPHeaders([
        ("content-type", "application/json"),
        ("server", "tollgate-mock-provider"),
    ])

    static let bedrockStreamHeaders = HTTPHeaders([
        ("content-type", "application/vnd.amazon.eventstream"),
        ("x-amzn-bedrock-content-type", "application/json"),
        ("server", "tollgate-mock-provider"),
    ])

    /// A request id in the UUID form AWS uses, from the mock's counter.
    static func awsRequestID(_ id: UInt64) -> String {
        let digits = String(id, radix: 16)
        let padded = String(repeating: "0", count: max(0, 12 - digits.utf8.count)) + digits
        return "00000000-0000-4000-8000-" + padded
    }

    /// Checks the request's SigV4 signature with the configured secret (and key id, when configured; otherwise
    /// the one the signature names).
    func verifySignature(head: HTTPRequestHead, body: ByteBuffer, secret: String) -> Result<
        Void, SigV4.VerificationFailure
    > {
        let uri = head.uri
        let question = uri.firstIndex(of: "?")
        let headers = head.headers.map { (name: $0.name, value: $0.value) }
        let signedID = head.headers.first(name: "authorization").flatMap(SigV4.Authorization.init)?.accessKeyID
        let credentials = SigV4.Credentials(
            accessKeyID: configuration.awsAccessKeyID ?? signedID ?? "", secretAccessKey: secret)
        do {
            try SigV4.verify(
                method: head.method.rawValue, path: String(question.map { uri[..<$0] } ?? uri[...]),
                query: question.map { String(uri[uri.index(after: $0)...]) }, headers: headers,
                payloadHash: body.withUnsafeReadableBytes { SigV4.payloadHash($0) }, credentials: credentials)
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    static func awsErrorType(_ status: Int) -> String {
        switch status {
        case 400: "ValidationException"
        case 403: "AccessDeniedException"
        case 404: "ResourceNotFoundException"
        case 408: "ModelTimeoutException"
        case 429: "ThrottlingException"
        case 503: "ServiceUnavailableException"
        case 500...: "InternalServerException"
        default: "ValidationException"
        }
    }

    func awsErrorReply(
        status: Int, type: String, message: String, requestID: UInt64, allocator: ByteBufferAllocator,
        fault: MockFault = MockFault()
    ) -> MockReply {
        var headers = Self.bedrockJSONHeaders
        headers.add(name: "x-amzn-requestid", value: Self.awsRequestID(requestID))
        headers.add(name: "x-amzn-errortype", value: type + ":http://internal.amazon.com/coral/com.amazon.bedrock/")
        var body = allocator.buffer(capacity: 64 + message.utf8.count)
        body.writeStaticString(#"{"message":"#)
        body.writeJSONString(message)
        body.writeStaticString("}")
        if let retryAfter = fault.retryAfter { headers.add(name: "retry-after", value: String(retryAfter)) }
        headers.add(name: "content-length", value: String(body.readableBytes))
        return MockReply(
            status: HTTPResponseStatus(statusCode: status), headers: headers, body: .full(body), fault: fault)
    }

    /// `TokenUsage`: `inputTokens` excludes cache reads and writes, which are counted apart.
    func writeTokenUsage(_ usage: Usage, into body: inout ByteBuffer) {
        let input = usage.input - usage.cached - usage.cacheWrite
        body.writeStaticString(#"{"inputTokens":"#)
        body.writeDecimal(input)
        body.writeStaticString(#","outputTokens":"#)
        body.writeDecimal(usage.output)
        body.writeStaticString(#","totalTokens":"#)
        body.writeDecimal(usage.input + usage.output)
        if usage.cached > 0 || usage.cacheWrite > 0 {
            body.writeStaticString(#","cacheReadInputTokens":"#)
            body.writeDecimal(usage.cached)
            body.writeStaticString(#","cacheWriteInputTokens":"#)
            body.writeDecimal(usage.cacheWrite)
        }
        body.writeStaticString("}")
    }

    /// `Converse`: the reply as one text block, `usage` in camelCase, `metrics`.
    func converse(_ request: MockRequest, words: Reply, usage: Usage, allocator: ByteBufferAllocator) -> ByteBuffer {
        var body = allocator.buffer(capacity: 256 + words.text.utf8.count)
        body.writeStaticString(#"{"output":{"message":{"role":"assistant","content":[{"text":"#)
        body.writeJSONString(words.text)
        body.writeStaticString(#"}]}},"stopReason":"end_turn","usage":"#)
        writeTokenUsage(usage, into: &body)
        body.writeStaticString(#","metrics":{"latencyMs":"#)
        body.writeDecimal(1 + words.words.count)
        body.writeStaticString("}}")
        return body
    }

    /// `ConverseStream`: `messageStart`, a `contentBlockDelta` per word, `contentBlockStop`, `messageStop`, then
    /// `metadata` with the usage.
    func converseStreamEvents(
        _ request: MockRequest, words: Reply, usage: Usage, allocator: ByteBufferAllocator
    ) -> [ByteBuffer] {
        var events: [ByteBuffer] = []
        events.reserveCapacity(words.words.count + 4)
        func event(_ type: String, _ write: (inout ByteBuffer) -> Void) {
            var payload = allocator.buffer(capacity: 128)
            write(&payload)
            events.append(Self.eventMessage(type, payload: payload, allocator: allocator))
        }
        event("messageStart") { $0.writeStaticString(#"{"role":"assistant"}"#) }
        for (index, word) in words.words.enumerated() {
            event("contentBlockDelta") { body in
                body.writeStaticString(#"{"contentBlockIndex":0,"delta":{"text":"#)
                body.writeJSONString(index == 0 ? word : " " + word)
                body.writeStaticString("}}")
            }
        }
        event("contentBlockStop") { $0.writeStaticString(#"{"contentBlockIndex":0}"#) }
        event("messageStop") { $0.writeStaticString(#"{"stopReason":"end_turn"}"#) }
        event("metadata") { body in
            body.writeStaticString(#"{"usage":"#)
            writeTokenUsage(usage, into: &body)
            body.writeStaticString(#","metrics":{"latencyMs":"#)
            body.writeDecimal(1 + words.words.count)
            body.writeStaticString("}}")
        }
        return events
    }

    /// `InvokeModelWithResponseStream` for an Anthropic model: each event of the Anthropic stream, base64 in a
    /// `chunk` event's `bytes`; the last (`message_stop`) carries `amazon-bedrock-invocationMetrics`.
    func invokeStreamEvents(
        _ request: MockRequest, words: Reply, usage: Usage, allocator: ByteBufferAllocator
    ) -> [ByteBuffer] {
        let anthropic = messageEvents(request, words: words, usage: usage, allocator: allocator)
        return anthropic.map { sse in
            var json = Self.dataOfEvent(sse)
            if json == Array(#"{"type":"message_stop"}"#.utf8) {
                json = Array(
                    (#"{"type":"message_stop","amazon-bedrock-invocationMetrics":{"inputTokenCount":"#
                        + "\(usage.input - usage.cached - usage.cacheWrite),\"outputTokenCount\":\(usage.output),"
                        + #""invocationLatency":1,"firstByteLatency":1}}"#).utf8)
            }
            var payload = allocator.buffer(capacity: json.count * 4 / 3 + 16)
            payload.writeStaticString(#"{"bytes":""#)
            payload.writeBytes(Base64.encode(json))
            payload.writeStaticString(#""}"#)
            return Self.eventMessage("chunk", payload: payload, allocator: allocator)
        }
    }

    /// The JSON after `data: ` in one server-sent event.
    static func dataOfEvent(_ event: ByteBuffer) -> [UInt8] {
        let bytes = Array(event.readableBytesView)
        let marker = Array("data: ".utf8)
        guard
            let start = (0...(bytes.count - marker.count)).first(where: {
                Array(bytes[$0..<$0 + marker.count]) == marker
            })
        else { return [] }
        var end = bytes.count
        while end > start, bytes[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        return Array(bytes[(start + marker.count)..<end])
    }

    /// One event stream message: `:event-type`, `:content-type` JSON, `:message-type` event.
    static func eventMessage(_ type: String, payload: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        let message = AWSEventStreamDecoder.Message(
            headers: [
                .init(":event-type", .string(type)), .init(":content-type", .string("application/json")),
                .init(":message-type", .string("event")),
            ],
            payload: Array(payload.readableBytesView))
        let encoded = message.encoded()
        var buffer = allocator.buffer(capacity: encoded.count)
        buffer.writeBytes(encoded)
        return buffer
    }
}
