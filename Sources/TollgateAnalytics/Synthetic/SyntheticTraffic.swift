import Foundation
import TollgateModel

/// Realistic synthetic gateway traffic for demos and benchmarks (`tollgate generate`, `tollgate-bench store`): many
/// providers and models (priced and unpriced), several gateways, streams, provider errors, streams that ended
/// without usage, prompt caching, reasoning tokens, and a latency distribution with a tail. Deterministic for a seed.
///
/// Records are spread evenly over [`start`, `end`) in time order, as a gateway would have written them.
public struct SyntheticTraffic {
    /// What a record carries besides its metadata.
    public enum Payloads: Sendable {
        /// Metadata only: no headers or bodies.
        case none
        /// Small bodies and two headers a side (`tollgate generate`).
        case small
        /// Chat exchanges shaped like an OpenAI SDK's: a system prompt, the whole response object, four request
        /// and three response headers (`tollgate-bench store`). Same metadata as `small` for the same seed.
        case full
    }

    struct Model {
        var provider: String
        var model: String
        var path: String
        var weight: Int
        /// Median latency in ms of a typical request.
        var medianMs: Double
        var reasoning: Bool = false
        var anthropic: Bool = false
        var embeddings: Bool = false
    }

    static let models: [Model] = [
        Model(provider: "openai", model: "gpt-5.4", path: "/chat/completions", weight: 18, medianMs: 900),
        Model(provider: "openai", model: "gpt-5.5", path: "/responses", weight: 8, medianMs: 2400, reasoning: true),
        Model(provider: "openai", model: "gpt-6-luna", path: "/chat/completions", weight: 14, medianMs: 450),
        Model(
            provider: "openai", model: "text-embedding-3-small", path: "/embeddings", weight: 6, medianMs: 120,
            embeddings: true),
        Model(
            provider: "anthropic", model: "claude-sonnet-5", path: "/v1/messages", weight: 14, medianMs: 1800,
            anthropic: true),
        Model(
            provider: "anthropic", model: "claude-haiku-5-5", path: "/v1/messages", weight: 10, medianMs: 600,
            anthropic: true),
        Model(
            provider: "anthropic", model: "claude-opus-5", path: "/v1/messages", weight: 3, medianMs: 4200,
            anthropic: true),
        Model(
            provider: "google-ai-studio", model: "gemini-2.5-flash",
            path: "/v1beta/models/gemini-2.5-flash:generateContent", weight: 8, medianMs: 700),
        Model(provider: "groq", model: "openai/gpt-oss-120b", path: "/chat/completions", weight: 5, medianMs: 250),
        Model(provider: "deepseek", model: "deepseek-v4-flash", path: "/chat/completions", weight: 4, medianMs: 1100),
        Model(
            provider: "grok", model: "grok-4-1-fast-reasoning", path: "/chat/completions", weight: 4, medianMs: 1500,
            reasoning: true),
        Model(provider: "perplexity-ai", model: "sonar", path: "/chat/completions", weight: 3, medianMs: 1900),
        Model(provider: "mistral", model: "mistral-small-latest", path: "/chat/completions", weight: 3, medianMs: 500),
    ]
    static let gateways: [(name: String, weight: Int)] = [
        ("default", 2), ("prod", 6), ("staging", 1), ("batch-jobs", 1),
    ]
    /// The gateways records are spread over.
    public static var gatewayNames: [String] { gateways.map(\.name) }

    static let words = """
        the a of to and in that is for it as with was on be by this are or at from an not but have all which \
        their more can one will about has would been there if into time only new some could these may other \
        customer invoice shipment refund order account password latency region cluster deploy rollback budget \
        summary translate explain function error retry timeout token stream model prompt cache embedding vector
        """.split(separator: " ").map(String.init)

    /// `words` as UTF-8 back to back, and where each ends, so a sentence is put together in one byte buffer.
    static let wordBytes: [UInt8] = words.flatMap(\.utf8)
    static let wordEnds: [Int] = words.reduce(into: []) { ends, word in
        ends.append((ends.last ?? 0) + word.utf8.count)
    }

    private var rng: SplitMix64
    private let ids = LogIDGenerator()
    private let modelTable: [Int]
    private let gatewayTable: [Int]
    private let start: Int64
    private let step: Double
    private var index = 0
    /// What each record carries besides its metadata.
    public var payloads: Payloads

    /// `count` records over [`start`, `end`) Unix ms.
    public init(seed: UInt64, count: Int, start: Int64, end: Int64, payloads: Payloads = .small) {
        rng = SplitMix64(seed: seed)
        self.start = start
        self.step = Double(max(end - start, 1)) / Double(max(count, 1))
        self.payloads = payloads
        modelTable = Self.models.indices.flatMap { Array(repeating: $0, count: Self.models[$0].weight) }
        gatewayTable = Self.gateways.indices.flatMap { Array(repeating: $0, count: Self.gateways[$0].weight) }
    }

    private mutating func uniform() -> Double { Double(rng.next() >> 11) / Double(1 << 53) }

    /// A standard normal deviate (Box–Muller).
    private mutating func normal() -> Double {
        let u = max(uniform(), 1e-12)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * uniform())
    }

    private mutating func pick<T>(_ values: [T]) -> T { values[Int(rng.next() % UInt64(values.count))] }

    /// `count` words drawn at random, separated by spaces.
    private mutating func sentence(_ count: Int) -> String {
        let n = UInt64(Self.words.count)
        var picks: [Int] = []
        picks.reserveCapacity(count)
        for _ in 0..<count { picks.append(Int(rng.next() % n)) }
        return Self.wordBytes.withUnsafeBufferPointer { bytes in
            Self.wordEnds.withUnsafeBufferPointer { ends in
                var length = max(0, count - 1)
                for pick in picks { length += ends[pick] - (pick == 0 ? 0 : ends[pick - 1]) }
                // ASCII words: the bytes are valid UTF-8 as they are.
                return String(unsafeUninitializedCapacity: length) { out in
                    var at = 0
                    for (i, pick) in picks.enumerated() {
                        if i > 0 {
                            out[at] = 0x20
                            at += 1
                        }
                        for k in (pick == 0 ? 0 : ends[pick - 1])..<ends[pick] {
                            out[at] = bytes[k]
                            at += 1
                        }
                    }
                    return at
                }
            }
        }
    }

    /// The next record for `account`.
    public mutating func next(account: String) -> LogRecord {
        let createdAt = start + Int64((Double(index) + uniform()) * step)
        index += 1
        let model = Self.models[pick(modelTable)]
        let gateway = Self.gateways[pick(gatewayTable)].name
        let stream = !model.embeddings && uniform() < 0.4
        let roll = uniform()
        let status: Int
        if roll < 0.012 {
            status = 429
        } else if roll < 0.018 {
            status = pick([500, 502, 503])
        } else {
            status = 200
        }
        // A stream cut off before its usage chunk: tokens unknown, so unpriced.
        let cutOff = status == 200 && stream && uniform() < 0.004

        var usage = Usage()
        var question = ""
        var answer = ""
        if status == 200 && !cutOff {
            let words = 8 + Int(uniform() * 40)
            question = sentence(words)
            // Prompts carry a system prompt and context: a long-tailed size.
            let tokensIn = Int64(200 + exp(5.5 + 1.1 * normal()))
            let tokensOut = model.embeddings ? 0 : Int64(20 + exp(4.8 + 0.9 * normal()))
            answer = model.embeddings ? "" : sentence(min(120, Int(tokensOut / 2) + 1))
            usage.tokensIn = tokensIn
            usage.tokensOut = tokensOut
            if !model.embeddings, uniform() < 0.35 {
                usage.cachedTokensIn = tokensIn * Int64(20 + rng.next() % 70) / 100
            }
            if model.anthropic, uniform() < 0.15 {
                let writes = (tokensIn - (usage.cachedTokensIn ?? 0)) / 2
                usage.cacheWriteTokens = writes
                if uniform() < 0.3 { usage.cacheWrite1hTokens = writes }
            }
            if model.reasoning { usage.reasoningTokens = tokensOut * Int64(30 + rng.next() % 60) / 100 }
        }

        // Log-normal latency around the model's median, with a 1% tail up to 20× longer.
        var durationMs = model.medianMs * exp(0.55 * normal())
        if uniform() < 0.01 { durationMs *= 3 + uniform() * 17 }
        if status == 429 { durationMs = 20 + uniform() * 60 }
        let duration = Int64(durationMs * 1000)
        let ttft: Int64? =
            status != 200 ? duration : stream ? Int64(Double(duration) * (0.1 + 0.3 * uniform())) : duration * 9 / 10

        let id = ids.next(millisecondsSinceEpoch: createdAt)
        var record = LogRecord(
            id: id, createdAt: id.milliseconds, account: account, gateway: gateway, provider: model.provider,
            model: model.model, path: model.path, method: "POST", statusCode: status,
            success: status == 200 && !cutOff, stream: stream, durationMicros: duration, ttftMicros: ttft,
            usage: usage, requestSize: 0, responseSize: 0,
            error: cutOff ? "upstream closed the stream before its end" : nil, payloadStored: payloads != .none)
        switch payloads {
        case .none: break
        case .small:
            let request = """
                {"model":"\(model.model)","messages":[{"role":"user","content":"\(question)"}]\(stream ? ",\"stream\":true" : "")}
                """
            let response =
                status == 200
                ? """
                {"id":"gen-\(rng.next() % 1_000_000_000)","model":"\(model.model)","choices":[{"index":0,"message":\
                {"role":"assistant","content":"\(answer)"},"finish_reason":"stop"}],"usage":{"prompt_tokens":\
                \(usage.tokensIn ?? 0),"completion_tokens":\(usage.tokensOut ?? 0)}}
                """
                : #"{"error":{"message":"upstream error","type":"server_error","code":\#(status)}}"#
            record.requestBody = Array(request.utf8)
            record.responseBody = Array(response.utf8)
            record.requestHeaders = [Header("content-type", "application/json"), Header("authorization", "REDACTED")]
            record.responseHeaders = [
                Header("content-type", stream ? "text/event-stream" : "application/json"),
                Header("x-request-id", "req_\(rng.next() % 1_000_000_000)"),
            ]
        case .full:
            let request = """
                {"model":"\(model.model)","messages":[{"role":"system","content":"You are a helpful assistant for \
                an online store."},{"role":"user","content":"\(question)"}],"temperature":0.7\(stream ? ",\"stream\":true" : "")}
                """
            let tokensIn = usage.tokensIn ?? 0
            let tokensOut = usage.tokensOut ?? 0
            let response =
                status == 200
                ? """
                {"id":"chatcmpl-\(rng.next() % 1_000_000_000)","object":"chat.completion","created":\(createdAt / 1000),\
                "model":"\(model.model)","choices":[{"index":0,"message":{"role":"assistant","content":"\(answer)",\
                "refusal":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":\(tokensIn),"completion_tokens":\
                \(tokensOut),"total_tokens":\(tokensIn + tokensOut),"prompt_tokens_details":{"cached_tokens":\
                \(usage.cachedTokensIn ?? 0)},"completion_tokens_details":{"reasoning_tokens":\
                \(usage.reasoningTokens ?? 0)}},"service_tier":"default"}
                """
                : #"{"error":{"message":"upstream error","type":"server_error","code":\#(status)}}"#
            record.requestBody = Array(request.utf8)
            record.responseBody = Array(response.utf8)
            record.requestHeaders = [
                Header("content-type", "application/json"), Header("authorization", "REDACTED"),
                Header("user-agent", "OpenAI/Python 2.8.1"), Header("accept", "application/json"),
            ]
            record.responseHeaders = [
                Header("content-type", stream ? "text/event-stream" : "application/json"),
                Header("x-request-id", "req_\(rng.next() % 1_000_000_000)"),
                Header("openai-processing-ms", "\(duration / 1000)"),
            ]
        }
        record.requestSize = Int64(max(record.requestBody.count, 64 + question.utf8.count))
        record.responseSize = Int64(max(record.responseBody.count, 64 + answer.utf8.count))
        return record
    }
}
