/// Usage carried in an AWS event stream (`application/vnd.amazon.eventstream`): Bedrock's `ConverseStream` and
/// `InvokeModelWithResponseStream` responses.
///
/// - `ConverseStream`: each event's payload is the JSON of one `ConverseStreamOutput` member; the `metadata` event
///   (`ConverseStreamMetadataEvent`) carries `usage` (`TokenUsage`: `inputTokens`, `outputTokens`, `totalTokens`,
///   `cacheReadInputTokens`, `cacheWriteInputTokens`) beside `metrics`
///   (docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStreamOutput.html,
///   API_runtime_ConverseStreamMetadataEvent.html, API_runtime_TokenUsage.html).
/// - `InvokeModelWithResponseStream`: each `chunk` event's payload is a `PayloadPart`, `{"bytes": "<base64>"}`, whose
///   decoded bytes are one event of the model's own stream: for Anthropic models an Anthropic streaming event
///   (`message_start` with `message.usage`, `message_delta` with `usage`), read as the Anthropic stream is
///   (docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ResponseStream.html, API_runtime_PayloadPart.html).
///
/// Exception messages (`:message-type` other than `event`) carry no usage and are passed over.
enum EventStreamUsage {
    /// An event stream body starts with its first message's total length, big-endian: a 0 byte for any message
    /// under 16 MiB. No JSON or SSE body starts with one.
    static func startsLikeEventStream(_ first: UInt8) -> Bool { first == 0 }

    /// The decoder both readers use: a message over `ResponseUsageScanner.maxEventBytes` (no usage event is that
    /// large) stops it, whether the body was captured or is passing, so the two give the same result and a
    /// passing stream never holds more than that.
    static func decoder() -> AWSEventStreamDecoder {
        AWSEventStreamDecoder(maxMessageBytes: ResponseUsageScanner.maxEventBytes)
    }
}

extension UsageParser.State {
    mutating func absorb(eventStreamMessage message: AWSEventStreamDecoder.Message) {
        if let type = message.string(":message-type"), type != "event" { return }
        let chunk = message.string(":event-type") == "chunk"
        message.payload.withUnsafeBufferPointer { payload in
            guard chunk else { return parseDocument(payload) }
            var reader = JSONReader(payload)
            guard reader.peekKind() == .object else { return }
            var encoded: String?
            try? reader.readObject { r, key throws(JSONReader.Failure) in
                if key == "bytes" { encoded = try r.readStringOrSkip() } else { try r.skipValue() }
            }
            guard let encoded, let decoded = Base64Decoding.decode(encoded) else { return }
            decoded.withUnsafeBufferPointer { parseDocument($0) }
        }
    }

    /// A whole event stream body.
    mutating func parseEventStream(_ bytes: UnsafeBufferPointer<UInt8>) {
        var decoder = EventStreamUsage.decoder()
        decoder.feed(UnsafeRawBufferPointer(bytes)) { absorb(eventStreamMessage: $0) }
    }
}

/// Bedrock runtime calls as their path names them: `/model/{modelId}/{operation}`
/// (docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html and its siblings `ConverseStream`,
/// `InvokeModel`, `InvokeModelWithResponseStream`). Bedrock's responses do not name the model, so the record's model
/// is the path's.
public enum BedrockUsage {
    public enum Operation: String, Sendable, Equatable {
        case converse
        case converseStream = "converse-stream"
        case invoke
        case invokeWithResponseStream = "invoke-with-response-stream"

        /// The response is an AWS event stream.
        public var streams: Bool { self == .converseStream || self == .invokeWithResponseStream }
    }

    public struct Route: Sendable, Equatable {
        /// Percent-decoded (`anthropic.claude-3-5-haiku-20241022-v1:0`, or an inference profile or ARN).
        public var modelID: String
        public var operation: Operation
    }

    /// The model and operation of a Bedrock runtime path (`/model/{modelId}/converse`, with or without a leading
    /// prefix before `/model/`), or nil for any other path.
    public static func route(path: String) -> Route? {
        var path = Substring(path)
        if let query = path.firstIndex(of: "?") { path = path[..<query] }
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        guard parts.count >= 3, parts[parts.count - 3] == "model",
            let operation = Operation(rawValue: String(parts[parts.count - 1]))
        else { return nil }
        let raw = parts[parts.count - 2]
        guard let modelID = raw.removingPercentEncodingOrNil, !modelID.isEmpty else { return nil }
        return Route(modelID: modelID, operation: operation)
    }

    /// The usage of a Bedrock response (Converse JSON, an Anthropic `invoke` body, or either event stream), with the
    /// caller's model id (from the path, see `route(path:)`) as its model when given.
    public static func parse(body: [UInt8], modelID: String?) -> ResponseUsage {
        var parsed = UsageParser.parse(body: body, eventStream: false)
        if let modelID, !modelID.isEmpty { parsed.model = modelID }
        return parsed
    }
}

extension Substring {
    /// `%XX` escapes decoded; nil when an escape is malformed or the result is not UTF-8.
    fileprivate var removingPercentEncodingOrNil: String? {
        var out: [UInt8] = []
        var bytes = utf8.makeIterator()
        while let b = bytes.next() {
            guard b == UInt8(ascii: "%") else {
                out.append(b)
                continue
            }
            guard let h = bytes.next().flatMap(Self.hex), let l = bytes.next().flatMap(Self.hex) else { return nil }
            out.append(h << 4 | l)
        }
        return String(validating: out, as: UTF8.self)
    }

    private static func hex(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
