/// Token usage and model name as a provider response reported them.
public struct ResponseUsage: Sendable, Equatable {
    public var usage: Usage
    /// The response's `model` (OpenAI, Anthropic and compatible providers) or `modelVersion` (Gemini).
    public var model: String?

    public init(usage: Usage = Usage(), model: String? = nil) {
        self.usage = usage
        self.model = model
    }
}

/// Reads token usage out of provider response bodies: OpenAI chat completions, Responses and embeddings, the
/// OpenAI-compatible providers (Groq, Mistral, DeepSeek, OpenRouter, Perplexity, xAI, Cerebras), Anthropic
/// messages, Gemini `generateContent`, Cohere v2 chat, Workers AI (`result.usage`), Hugging Face
/// text-generation-inference (`details`) and Bedrock (Converse, and
/// Anthropic bodies through
/// `invoke`), each as JSON or as a stream — Bedrock's streams in the binary AWS event stream encoding
/// (`EventStreamUsage`).
///
/// Pure and total: any input (garbage, truncated, empty) gives a result, never a trap. What could not be read
/// is nil — a stream that carried no usage has unknown tokens, not zero. The shapes do not collide, so one
/// reader handles every provider and the field names decide the meaning (see `ReportedUsage.normalized()`);
/// that also covers a provider serving another's wire format (xAI's Anthropic-compatible endpoint).
///
/// Streams: OpenAI chat takes the chunk carrying `usage` (with `stream_options.include_usage`; Groq's
/// `x_groq.usage` otherwise); Responses takes `response.usage` of `response.completed`, `response.incomplete`
/// or `response.failed`; Anthropic takes `message_start`'s `message.usage` (input and cache counts; its
/// placeholder output count is ignored), then each `message_delta`'s `usage`, field by field; Gemini takes the
/// last `usageMetadata`, in `alt=sse` form or as a JSON array; Cohere takes `message-end`'s `delta.usage`;
/// text-generation-inference takes the last event's `details` (`input_length`, `generated_tokens`).
public enum UsageParser {
    /// Parses a response body. `eventStream` is true for `text/event-stream` bodies; otherwise the body is one
    /// JSON value (an object, or Gemini's array of stream chunks).
    public static func parse(body: [UInt8], eventStream: Bool) -> ResponseUsage {
        body.withUnsafeBufferPointer { parse(bytes: $0, eventStream: eventStream) }
    }

    static func parse(bytes: UnsafeBufferPointer<UInt8>, eventStream: Bool) -> ResponseUsage {
        var state = State()
        var start = bytes.startIndex
        while start < bytes.endIndex,
            bytes[start] == 0x20 || bytes[start] == 0x0A || bytes[start] == 0x0D
                || bytes[start] == 0x09
        {
            start += 1
        }
        if start < bytes.endIndex, EventStreamUsage.startsLikeEventStream(bytes[start]) {
            // Bedrock's binary AWS event stream, whatever the content type said.
            state.parseEventStream(UnsafeBufferPointer(rebasing: bytes[start...]))
        } else if eventStream || looksLikeEventStream(bytes) {
            ServerSentEvents.forEachData(in: bytes) { data in
                state.parseDocument(data)
            }
        } else {
            state.parseDocument(bytes)
        }
        return ResponseUsage(usage: state.reported.normalized(), model: state.model)
    }

    /// A body that starts with an SSE field is read as a stream even when the content type did not say so.
    private static func looksLikeEventStream(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = bytes.startIndex
        while i < bytes.endIndex, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 {
            i += 1
        }
        for prefix: StaticString in ["data:", "event:", ":"] {
            let n = prefix.utf8CodeUnitCount
            guard bytes.endIndex - i >= n else { continue }
            var matches = true
            for k in 0..<n where bytes[i + k] != prefix.utf8Start[k] { matches = false }
            if matches { return true }
        }
        return false
    }

    /// What the events of one response add up to.
    struct State {
        var reported = ReportedUsage()
        var model: String?

        /// One JSON document: a whole body, one SSE event's data, or a JSON array of chunks. Failures leave what
        /// earlier documents reported.
        mutating func parseDocument(_ bytes: UnsafeBufferPointer<UInt8>) {
            var reader = JSONReader(bytes)
            switch reader.peekKind() {
            case .object:
                var event = Event(readsModel: model == nil)
                // A truncated object still yields the members read before the cut.
                try? event.readEnvelope(&reader)
                absorb(event)
            case .array:
                // Gemini's streamGenerateContent without alt=sse: `[{chunk}, {chunk}, …]`.
                try? reader.readArray { r throws(JSONReader.Failure) in
                    guard r.peekKind() == .object else { return try r.skipValue() }
                    var event = Event(readsModel: model == nil)
                    defer { absorb(event) }
                    try event.readEnvelope(&r)
                }
            default:
                return  // `[DONE]`, an empty event, HTML error pages, garbage
            }
        }

        /// Reads `bytes` when they are one whole JSON document (an object, or an array of them) followed by nothing
        /// but whitespace, as `parseDocument` does; false, with nothing read, when they are not (cut short, malformed,
        /// or not a container).
        mutating func parseWholeDocument(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            var reader = JSONReader(bytes)
            // What the document reports, kept apart until it is known to be whole (then merged in, as `absorb` merges
            // each event): a copy of `self` to try on would retain its strings and release them after.
            var trial = State()
            do throws(JSONReader.Failure) {
                switch reader.peekKind() {
                case .object:
                    var event = Event(readsModel: model == nil)
                    try event.readEnvelope(&reader)
                    trial.absorb(event)
                case .array:
                    try reader.readArray { r throws(JSONReader.Failure) in
                        guard r.peekKind() == .object else { return try r.skipValue() }
                        var event = Event(readsModel: model == nil && trial.model == nil)
                        try event.readEnvelope(&r)
                        trial.absorb(event)
                    }
                default:
                    return false
                }
            } catch {
                return false
            }
            guard reader.isAtEnd() else { return false }
            if model == nil { model = trial.model }
            reported.merge(trial.reported)
            return true
        }

        private mutating func absorb(_ event: Event) {
            if model == nil, let m = event.model, !m.isEmpty { model = m }
            if event.usage.input == nil, event.usage.output == nil, event.usage.total == nil,
                var groq = event.groqUsage, !groq.isEmpty
            {
                // Groq reports stream usage in `x_groq.usage` when the standard field is absent.
                groq.serviceTier = groq.serviceTier ?? event.usage.serviceTier
                reported.merge(groq)
            } else {
                // Merged from the event as it is (a copy of it would retain its strings and release them after).
                reported.merge(event.usage)
            }
        }
    }

    /// The fields of one response object or stream event.
    struct Event {
        var usage = ReportedUsage()
        /// Groq's `x_groq.usage`, when the event has one.
        var groqUsage: ReportedUsage?
        var model: String?
        /// Whether the event's model is wanted: false once an earlier event named one, which the response keeps, so
        /// a stream's later events make no string of theirs.
        var readsModel = true

        /// Top level of a response or event, and the envelopes events nest their response in (`response` in
        /// Responses events, `message` in Anthropic's `message_start`).
        mutating func readEnvelope(_ reader: inout JSONReader) throws(JSONReader.Failure) {
            try reader.readObject { r, key throws(JSONReader.Failure) in
                if key == "usage" {
                    try Self.readUsage(&r, into: &usage)
                } else if key == "usageMetadata" {
                    try Self.readGeminiUsage(&r, into: &usage)
                } else if key == "model" || key == "modelVersion" {
                    if model == nil && readsModel { model = try r.readStringOrSkip() } else { try r.skipValue() }
                } else if key == "service_tier" {
                    if let tier = try r.readStringOrSkip() { usage.serviceTier = tier }
                } else if key == "response" {
                    guard r.peekKind() == .object else { return try r.skipValue() }
                    try readEnvelope(&r)
                } else if key == "message" {
                    // Anthropic `message_start`: its `output_tokens` is a placeholder (usually 1) until
                    // `message_delta` reports the count, so a stream cut before that has unknown output.
                    guard r.peekKind() == .object else { return try r.skipValue() }
                    let output = usage.output
                    try readEnvelope(&r)
                    usage.output = output
                } else if key == "result" {
                    // Workers AI REST (`/ai/run/{model}`): `{"result":{"response":…,"usage":{…}},"success":…}`.
                    guard r.peekKind() == .object else { return try r.skipValue() }
                    try readEnvelope(&r)
                } else if key == "delta" {
                    // Cohere v2 `message-end`: `delta.usage`.
                    guard r.peekKind() == .object else { return try r.skipValue() }
                    try readEnvelope(&r)
                } else if key == "details" {
                    // Hugging Face text-generation-inference (`/generate_stream`, the text-generation task): the
                    // last event's `details` carries `input_length` and `generated_tokens`; earlier events have null.
                    try Self.readTGIDetails(&r, into: &usage)
                } else if key == "x_groq" {
                    guard r.peekKind() == .object else { return try r.skipValue() }
                    try r.readObject { g, gkey throws(JSONReader.Failure) in
                        guard gkey == "usage" else { return try g.skipValue() }
                        if groqUsage == nil { groqUsage = ReportedUsage() }
                        try Self.readUsage(&g, into: &groqUsage!)
                    }
                } else {
                    try r.skipValue()
                }
            }
        }

        /// An OpenAI-style or Anthropic `usage` object (null is skipped).
        static func readUsage(_ reader: inout JSONReader, into u: inout ReportedUsage) throws(JSONReader.Failure) {
            guard reader.peekKind() == .object else { return try reader.skipValue() }
            try reader.readObject { r, key throws(JSONReader.Failure) in
                if key == "prompt_tokens" || key == "input_tokens" || key == "inputTokens" {
                    u.input = try r.readCount() ?? u.input
                } else if key == "completion_tokens" || key == "output_tokens" || key == "outputTokens" {
                    u.output = try r.readCount() ?? u.output
                } else if key == "cacheReadInputTokens" {
                    // Bedrock `TokenUsage`: cache reads and writes are counted apart from `inputTokens`, as
                    // Anthropic counts them (docs.aws.amazon.com/bedrock/latest/userguide/prompt-caching.html).
                    u.anthropicCacheRead = try r.readCount() ?? u.anthropicCacheRead
                } else if key == "cacheWriteInputTokens" {
                    u.anthropicCacheCreation = try r.readCount() ?? u.anthropicCacheCreation
                } else if key == "totalTokens" {
                    u.total = try r.readCount() ?? u.total
                } else if key == "billed_units" {
                    // Cohere v2: `billed_units` is what Cohere bills; `tokens` (what the model processed, prompt
                    // template included) is kept only for a response without billed units.
                    try readDetails(&r) { k, r throws(JSONReader.Failure) in
                        if k == "input_tokens" {
                            u.input = try r.readCount() ?? u.input
                        } else if k == "output_tokens" {
                            u.output = try r.readCount() ?? u.output
                        } else {
                            try r.skipValue()
                        }
                    }
                } else if key == "tokens" {
                    try readDetails(&r) { k, r throws(JSONReader.Failure) in
                        if k == "input_tokens" {
                            u.cohereTokensIn = try r.readCount() ?? u.cohereTokensIn
                        } else if k == "output_tokens" {
                            u.cohereTokensOut = try r.readCount() ?? u.cohereTokensOut
                        } else {
                            try r.skipValue()
                        }
                    }
                } else if key == "total_tokens" {
                    u.total = try r.readCount() ?? u.total
                } else if key == "prompt_tokens_details" || key == "input_tokens_details" {
                    try readDetails(&r) { k, r throws(JSONReader.Failure) in
                        if k == "cached_tokens" {
                            u.cachedDetail = try r.readCount() ?? u.cachedDetail
                        } else if k == "cache_write_tokens" {
                            u.cacheWriteDetail = try r.readCount() ?? u.cacheWriteDetail
                        } else {
                            try r.skipValue()
                        }
                    }
                } else if key == "completion_tokens_details" || key == "output_tokens_details" {
                    try readDetails(&r) { k, r throws(JSONReader.Failure) in
                        if k == "reasoning_tokens" {
                            u.reasoningDetail = try r.readCount() ?? u.reasoningDetail
                        } else {
                            try r.skipValue()
                        }
                    }
                } else if key == "reasoning_tokens" {
                    u.reasoningTop = try r.readCount() ?? u.reasoningTop
                } else if key == "citation_tokens" {
                    u.citation = try r.readCount() ?? u.citation
                } else if key == "prompt_cache_hit_tokens" {
                    u.cacheHit = try r.readCount() ?? u.cacheHit
                } else if key == "cache_read_input_tokens" {
                    u.anthropicCacheRead = try r.readCount() ?? u.anthropicCacheRead
                } else if key == "cache_creation_input_tokens" {
                    u.anthropicCacheCreation = try r.readCount() ?? u.anthropicCacheCreation
                } else if key == "cache_creation" {
                    try readDetails(&r) { k, r throws(JSONReader.Failure) in
                        if k == "ephemeral_5m_input_tokens" {
                            u.anthropicCache5m = try r.readCount() ?? u.anthropicCache5m
                        } else if k == "ephemeral_1h_input_tokens" {
                            u.anthropicCache1h = try r.readCount() ?? u.anthropicCache1h
                        } else {
                            try r.skipValue()
                        }
                    }
                } else if key == "service_tier" {
                    if let tier = try r.readStringOrSkip() { u.serviceTier = tier }
                } else {
                    try r.skipValue()
                }
            }
        }

        /// Gemini `usageMetadata`.
        static func readGeminiUsage(
            _ reader: inout JSONReader, into u: inout ReportedUsage
        ) throws(JSONReader.Failure) {
            guard reader.peekKind() == .object else { return try reader.skipValue() }
            try reader.readObject { r, key throws(JSONReader.Failure) in
                if key == "promptTokenCount" {
                    u.geminiPrompt = try r.readCount() ?? u.geminiPrompt
                } else if key == "candidatesTokenCount" {
                    u.geminiCandidates = try r.readCount() ?? u.geminiCandidates
                } else if key == "thoughtsTokenCount" {
                    u.geminiThoughts = try r.readCount() ?? u.geminiThoughts
                } else if key == "cachedContentTokenCount" {
                    u.geminiCachedContent = try r.readCount() ?? u.geminiCachedContent
                } else if key == "toolUsePromptTokenCount" {
                    u.geminiToolUsePrompt = try r.readCount() ?? u.geminiToolUsePrompt
                } else if key == "totalTokenCount" {
                    u.total = try r.readCount() ?? u.total
                } else {
                    try r.skipValue()
                }
            }
        }

        /// Hugging Face text-generation-inference `details` (`TextGenerationStreamOutputStreamDetails` in the
        /// `@huggingface/tasks` specification): `input_length` (prompt tokens) and `generated_tokens` (null is skipped).
        static func readTGIDetails(
            _ reader: inout JSONReader, into u: inout ReportedUsage
        ) throws(JSONReader.Failure) {
            try readDetails(&reader) { k, r throws(JSONReader.Failure) in
                if k == "input_length" {
                    u.tgiInputLength = try r.readCount() ?? u.tgiInputLength
                } else if k == "generated_tokens" {
                    u.tgiGeneratedTokens = try r.readCount() ?? u.tgiGeneratedTokens
                } else {
                    try r.skipValue()
                }
            }
        }

        /// A nested details object (null is skipped).
        private static func readDetails(
            _ reader: inout JSONReader,
            _ member: (JSONKey, inout JSONReader) throws(JSONReader.Failure) -> Void
        ) throws(JSONReader.Failure) {
            guard reader.peekKind() == .object else { return try reader.skipValue() }
            try reader.readObject { r, key throws(JSONReader.Failure) in try member(key, &r) }
        }
    }
}
