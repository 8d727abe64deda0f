/// Faults and overrides a request asks the mock provider for, read from its `x-mock-*` headers.
///
/// `x-mock-fault` holds comma-separated directives:
/// - `close`: close the connection without answering.
/// - `delay-ms=N`: wait N ms before sending the response head.
/// - `chunk-delay-ms=N`: wait N ms before each SSE event after the first (streams only).
/// - `cut-stream-after=N`: close the connection after N SSE events of a stream (the end of the stream is never
///   sent); on a non-streaming response, after N bytes of the body.
/// - `status=N`: answer with status N (400–599) and an error body in the provider's shape.
/// - `retry-after=N`: with `status`, a `Retry-After: N` header (seconds) on the error.
/// - `fail-first=N`: the directives above apply to the first N requests that carry the same `x-mock-key` header
///   (or, without one, the same `x-mock-fault` value); later ones are answered normally. So a client that retries
///   sees N failures, then a success.
///
/// `x-mock-usage` holds comma-separated `input=N`, `cached=N`, `cache-write=N`, `cache-write-1h=N` and
/// `reasoning=N`: the reported usage then claims N input tokens in all (instead of the count of the request's
/// words), N cached input tokens (OpenAI `cached_tokens`, Anthropic `cache_read_input_tokens`), N cache-write tokens
/// (Anthropic `cache_creation_input_tokens`; OpenAI chat completions `prompt_tokens_details.cache_write_tokens`), of
/// which N with the 1-hour TTL (Anthropic `cache_creation.ephemeral_1h_input_tokens`), and N extra reasoning output
/// tokens (OpenAI `reasoning_tokens`, added to the output total).
///
/// `x-mock-reply-words: N` makes the reply N words long (the configured reply text repeated or cut).
struct MockFault: Equatable, Sendable {
    var close = false
    var delayMilliseconds = 0
    var chunkDelayMilliseconds = 0
    var cutAfter: Int?
    var status: Int?
    var retryAfter: Int?
    var failFirst: Int?

    var inputTokens: Int?
    var cachedTokens = 0
    var cacheWriteTokens = 0
    var cacheWrite1hTokens = 0
    var reasoningTokens = 0
    var replyWords: Int?

    static let maximumDelayMilliseconds = 600_000
    static let maximumReplyWords = 1_000_000

    init() {}

    /// Parses the header values; throws a message naming the bad directive.
    init(fault: String?, usage: String?, replyWords: String?) throws(MockProviderError) {
        if let fault {
            for directive in Self.directives(fault) {
                let (name, value) = directive
                switch name {
                case "close":
                    guard value == nil else { throw .badDirective(name) }
                    close = true
                case "delay-ms":
                    delayMilliseconds = try Self.number(value, name: name, range: 0...Self.maximumDelayMilliseconds)
                case "chunk-delay-ms":
                    chunkDelayMilliseconds = try Self.number(
                        value, name: name, range: 0...Self.maximumDelayMilliseconds)
                case "cut-stream-after":
                    cutAfter = try Self.number(value, name: name, range: 0...Int(Int32.max))
                case "status":
                    status = try Self.number(value, name: name, range: 400...599)
                case "retry-after":
                    retryAfter = try Self.number(value, name: name, range: 0...86_400)
                case "fail-first":
                    failFirst = try Self.number(value, name: name, range: 0...Int(Int32.max))
                default:
                    throw .badDirective(name)
                }
            }
        }
        if let usage {
            for (name, value) in Self.directives(usage) {
                switch name {
                case "input": inputTokens = try Self.number(value, name: name, range: 0...Int(Int32.max))
                case "cache-write-1h":
                    cacheWrite1hTokens = try Self.number(value, name: name, range: 0...Int(Int32.max))
                case "cached": cachedTokens = try Self.number(value, name: name, range: 0...Int(Int32.max))
                case "cache-write": cacheWriteTokens = try Self.number(value, name: name, range: 0...Int(Int32.max))
                case "reasoning": reasoningTokens = try Self.number(value, name: name, range: 0...Int(Int32.max))
                default: throw .badDirective(name)
                }
            }
        }
        if let replyWords {
            self.replyWords = try Self.number(
                replyWords.trimmingSpaces(), name: "x-mock-reply-words", range: 0...Self.maximumReplyWords)
        }
    }

    /// The same request with no failure injected: what a `fail-first` request gets once its failures are used.
    var withoutFailures: MockFault {
        var fault = self
        fault.close = false
        fault.delayMilliseconds = 0
        fault.chunkDelayMilliseconds = 0
        fault.cutAfter = nil
        fault.status = nil
        fault.retryAfter = nil
        return fault
    }

    private static func directives(_ header: String) -> [(String, String?)] {
        header.split(separator: ",").compactMap { part in
            let trimmed = String(part).trimmingSpaces()
            guard !trimmed.isEmpty else { return nil }
            if let equals = trimmed.firstIndex(of: "=") {
                let name = String(trimmed[..<equals]).trimmingSpaces().lowercased()
                let value = String(trimmed[trimmed.index(after: equals)...]).trimmingSpaces()
                return (name, value)
            }
            return (trimmed.lowercased(), nil)
        }
    }

    private static func number(_ value: String?, name: String, range: ClosedRange<Int>) throws(MockProviderError) -> Int
    {
        guard let value, let number = Int(value), range.contains(number) else { throw .badDirective(name) }
        return number
    }
}

extension String {
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
