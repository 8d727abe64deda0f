import TollgateModel

/// Realistic-looking log records for benchmarks: chat requests and responses with varied text, several models
/// and providers, streams, errors and a latency tail. Deterministic for a seed.
struct SyntheticRecords {
    private var rng: SplitMix64
    private let ids = LogIDGenerator()
    private let words = """
        the a of to and in that is for it as with was on be by this are or at from an not but have all which \
        their more can one will about has would been there if into time only new some could these may other \
        than then its also after two first way use our over even most made like through back years where much \
        before good same should because each those people how well just great between state any life being \
        customer invoice shipment refund order account password latency region cluster deploy rollback budget \
        summary translate explain function error retry timeout token stream model prompt cache embedding vector
        """.split(separator: " ").map(String.init)
    /// `words` as UTF-8 back to back, and where each ends, so a sentence is put together in one byte buffer.
    private let wordBytes: [UInt8]
    private let wordEnds: [Int]
    private let models: [(provider: String, model: String, path: String)] = [
        ("openai", "gpt-5-mini", "/chat/completions"), ("openai", "gpt-5", "/responses"),
        ("openai", "gpt-4o-mini", "/chat/completions"), ("openai", "text-embedding-3-small", "/embeddings"),
        ("anthropic", "claude-sonnet-4-5", "/v1/messages"), ("anthropic", "claude-haiku-4-5", "/v1/messages"),
        ("google-ai-studio", "gemini-2.5-flash", "/v1beta/models/gemini-2.5-flash:generateContent"),
        ("groq", "llama-3.3-70b-versatile", "/chat/completions"),
        ("mistral", "mistral-small-latest", "/chat/completions"),
        ("deepseek", "deepseek-chat", "/chat/completions"),
    ]

    init(seed: UInt64) {
        rng = SplitMix64(seed: seed)
        var bytes: [UInt8] = []
        var ends: [Int] = []
        for word in words {
            bytes.append(contentsOf: word.utf8)
            ends.append(bytes.count)
        }
        wordBytes = bytes
        wordEnds = ends
    }

    mutating func sentence(_ count: Int) -> String {
        let n = UInt64(wordEnds.count)
        var picks: [Int] = []
        picks.reserveCapacity(count)
        for _ in 0..<count { picks.append(Int(rng.next() % n)) }
        return wordBytes.withUnsafeBufferPointer { bytes in
            wordEnds.withUnsafeBufferPointer { ends in
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
                        let start = pick == 0 ? 0 : ends[pick - 1]
                        for k in start..<ends[pick] {
                            out[at] = bytes[k]
                            at += 1
                        }
                    }
                    return at
                }
            }
        }
    }

    /// One record at `createdAt` (Unix ms) for `account`.
    mutating func next(account: String, createdAt: Int64) -> LogRecord {
        let choice = models[Int(rng.next() % UInt64(models.count))]
        let stream = rng.next() % 3 == 0
        let failed = rng.next() % 50 == 0
        let question = sentence(8 + Int(rng.next() % 60))
        let answer = sentence(20 + Int(rng.next() % 200))
        let tokensIn = Int64(question.utf8.count / 4 + 12)
        let tokensOut = Int64(answer.utf8.count / 4 + 1)
        let requestBody = """
            {"model":"\(choice.model)","messages":[{"role":"system","content":"You are a helpful assistant for \
            an online store."},{"role":"user","content":"\(question)"}],"temperature":0.7\(stream ? ",\"stream\":true" : "")}
            """
        let responseBody = """
            {"id":"chatcmpl-\(rng.next() % 1_000_000_000)","object":"chat.completion","created":\(createdAt / 1000),\
            "model":"\(choice.model)","choices":[{"index":0,"message":{"role":"assistant","content":"\(answer)",\
            "refusal":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":\(tokensIn),"completion_tokens":\
            \(tokensOut),"total_tokens":\(tokensIn + tokensOut),"prompt_tokens_details":{"cached_tokens":0},\
            "completion_tokens_details":{"reasoning_tokens":0}},"service_tier":"default"}
            """
        // Log-normal-ish latency with a tail: most 300–2000 ms, a few up to 30 s.
        let base = 300 + Double(rng.next() % 1700)
        let tail = rng.next() % 100 == 0 ? Double(rng.next() % 28_000) : 0
        let duration = Int64((base + tail) * 1000)
        let id = ids.next(millisecondsSinceEpoch: createdAt)
        return LogRecord(
            id: id, createdAt: id.milliseconds, account: account, gateway: "default", provider: choice.provider,
            model: choice.model, path: choice.path, method: "POST", statusCode: failed ? 500 : 200,
            success: !failed, stream: stream, durationMicros: duration, ttftMicros: duration / 4,
            usage: failed
                ? Usage() : Usage(tokensIn: tokensIn, cachedTokensIn: 0, tokensOut: tokensOut, reasoningTokens: 0),
            requestSize: Int64(requestBody.utf8.count), responseSize: Int64(responseBody.utf8.count),
            error: failed ? "upstream returned 500" : nil,
            requestHeaders: [
                Header("content-type", "application/json"), Header("authorization", "REDACTED"),
                Header("user-agent", "OpenAI/Python 2.8.1"), Header("accept", "application/json"),
            ],
            responseHeaders: [
                Header("content-type", "application/json"), Header("x-request-id", "req_\(rng.next() % 1_000_000_000)"),
                Header("openai-processing-ms", "\(duration / 1000)"),
            ],
            requestBody: Array(requestBody.utf8), responseBody: Array(responseBody.utf8)
        )
    }
}
