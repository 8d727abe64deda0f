import NIOCore
import NIOHTTP1

/// Gemini `generateContent` / `streamGenerateContent` as Vertex AI answers them: `candidates`, `usageMetadata`
/// (`promptTokenCount` counts all input, cached included, with `cachedContentTokenCount` beside it;
/// `candidatesTokenCount` excludes `thoughtsTokenCount`; `totalTokenCount` is their sum), `modelVersion`.
extension MockResponder {
    func generateContent(_ request: MockRequest, words: Reply, usage: Usage, allocator: ByteBufferAllocator)
        -> ByteBuffer
    {
        var body = allocator.buffer(capacity: 512 + words.text.utf8.count)
        writeGenerateContentChunk(
            request, text: words.text, finished: true, usage: usage, candidates: usage.output - usage.reasoning,
            into: &body)
        return body
    }

    /// One chunk per word; every chunk carries `usageMetadata` with the candidates counted so far, the last one the
    /// whole usage and `finishReason`. As server-sent events (`alt=sse`) or as the pieces of one JSON array.
    func generateContentEvents(
        _ request: MockRequest, words: Reply, usage: Usage, serverSentEvents: Bool, allocator: ByteBufferAllocator
    ) -> [ByteBuffer] {
        let pieces = words.words.isEmpty ? [""] : words.words
        var events: [ByteBuffer] = []
        events.reserveCapacity(pieces.count + 1)
        for (index, word) in pieces.enumerated() {
            let last = index == pieces.count - 1
            let text = index == 0 ? word : " " + word
            var buffer = allocator.buffer(capacity: 384)
            if serverSentEvents {
                buffer.writeStaticString("data: ")
            } else {
                buffer.writeStaticString(index == 0 ? "[" : ",\r\n")
            }
            writeGenerateContentChunk(
                request, text: text, finished: last, usage: usage,
                candidates: last ? usage.output - usage.reasoning : index + 1, into: &buffer)
            if serverSentEvents { buffer.writeStaticString("\r\n\r\n") }
            events.append(buffer)
        }
        if !serverSentEvents {
            var close = allocator.buffer(capacity: 1)
            close.writeStaticString("]")
            events.append(close)
        }
        return events
    }

    private func writeGenerateContentChunk(
        _ request: MockRequest, text: String, finished: Bool, usage: Usage, candidates: Int,
        into body: inout ByteBuffer
    ) {
        body.writeStaticString(#"{"candidates":[{"content":{"role":"model","parts":[{"text":"#)
        body.writeJSONString(text)
        body.writeStaticString("}]}")
        if finished { body.writeStaticString(#","finishReason":"STOP""#) }
        body.writeStaticString(#"}],"usageMetadata":{"promptTokenCount":"#)
        body.writeDecimal(usage.input)
        body.writeStaticString(#","candidatesTokenCount":"#)
        body.writeDecimal(candidates)
        body.writeStaticString(#","totalTokenCount":"#)
        body.writeDecimal(usage.input + candidates + (finished ? usage.reasoning : 0))
        if usage.cached > 0 {
            body.writeStaticString(#","cachedContentTokenCount":"#)
            body.writeDecimal(usage.cached)
        }
        if finished && usage.reasoning > 0 {
            body.writeStaticString(#","thoughtsTokenCount":"#)
            body.writeDecimal(usage.reasoning)
        }
        body.writeStaticString(#","trafficType":"ON_DEMAND"},"modelVersion":"#)
        body.writeJSONString(request.model)
        body.writeStaticString(#","createTime":"2026-01-01T00:00:00.000000Z","responseId":""#)
        body.writeIdentifier(request.fingerprint, salt: 7)
        body.writeStaticString(#""}"#)
    }

    /// Google's error shape: `{"error":{"code":…,"message":…,"status":…}}`.
    func writeGoogleError(status: Int, message: String, into body: inout ByteBuffer) {
        body.writeStaticString(#"{"error":{"code":"#)
        body.writeDecimal(status)
        body.writeStaticString(#","message":"#)
        body.writeJSONString(message)
        body.writeStaticString(#","status":"#)
        body.writeJSONString(Self.googleStatus(status))
        body.writeStaticString("}}")
    }

    static func googleStatus(_ status: Int) -> String {
        switch status {
        case 400: "INVALID_ARGUMENT"
        case 401: "UNAUTHENTICATED"
        case 403: "PERMISSION_DENIED"
        case 404: "NOT_FOUND"
        case 429: "RESOURCE_EXHAUSTED"
        case 503: "UNAVAILABLE"
        case 504: "DEADLINE_EXCEEDED"
        default: status >= 500 ? "INTERNAL" : "FAILED_PRECONDITION"
        }
    }

    static let googleJSONHeaders = HTTPHeaders([
        ("content-type", "application/json; charset=UTF-8"),
        ("vary", "Origin, X-Origin, Referer"),
        ("server", "tollgate-mock-provider"),
    ])

    static let googleStreamHeaders = HTTPHeaders([
        ("content-type", "text/event-stream"),
        ("vary", "Origin, X-Origin, Referer"),
        ("server", "tollgate-mock-provider"),
    ])
}
