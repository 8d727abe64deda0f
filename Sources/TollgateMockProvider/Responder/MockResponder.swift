import NIOCore
import NIOHTTP1

/// Turns one HTTP request into a ``MockReply``: routing, request parsing, usage and the provider-shaped bodies.
///
/// Pure apart from the request counter, so it is tested without a network.
struct MockResponder: Sendable {
    /// Which provider's conventions (headers, error shape) a reply follows.
    enum Family: Sendable {
        case openAI
        case anthropic
        /// Google (Vertex AI's Gemini endpoints).
        case google
        /// AWS Bedrock runtime.
        case bedrock
    }

    /// Token counts of one reply, already split the way the provider reports them.
    struct Usage: Sendable, Equatable {
        /// All input tokens, cached included.
        var input: Int
        var cached: Int
        var cacheWrite: Int
        /// The part of `cacheWrite` written with the 1-hour TTL (Anthropic).
        var cacheWrite1h: Int = 0
        /// All output tokens, reasoning included.
        var output: Int
        var reasoning: Int
    }

    /// The words of a reply and their text, joined by single spaces.
    struct Reply: Sendable {
        var words: [String]
        var text: String

        init(words: [String]) {
            self.words = words
            self.text = words.joined(separator: " ")
        }
    }

    let configuration: MockProvider.Configuration
    let defaultReply: Reply
    let counter: RequestCounter
    /// Requests per `x-mock-key`, for `fail-first`.
    let keyedCounter = KeyedRequestCounter()

    init(configuration: MockProvider.Configuration, counter: RequestCounter = RequestCounter()) {
        self.configuration = configuration
        self.defaultReply = Reply(
            words: configuration.replyText.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
                .map(String.init))
        self.counter = counter
    }

    func respond(head: HTTPRequestHead, body: ByteBuffer, allocator: ByteBufferAllocator) -> MockReply {
        let path = head.uri.firstIndex(of: "?").map { head.uri[..<$0] } ?? head.uri[...]
        let query = head.uri.firstIndex(of: "?").map { head.uri[head.uri.index(after: $0)...] }
        var endpoint: MockRequest.Endpoint?
        var route: MockRoute?
        switch path {
        case "/v1/chat/completions": endpoint = .chatCompletions
        case "/v1/responses": endpoint = .responses
        case "/v1/embeddings": endpoint = .embeddings
        case "/v1/messages": endpoint = .messages
        case "/v2/chat": endpoint = .cohereChat
        default:
            route = MockRoute(path: path, query: query, headers: head.headers.first(name: "x-mock-model"))
            endpoint = route?.endpoint
        }
        let family: Family = route?.family ?? (endpoint == .messages ? .anthropic : .openAI)
        let envelope = endpoint == .workersAIRun
        let requestID = counter.next()

        var fault: MockFault
        do {
            fault = try MockFault(
                fault: head.headers.first(name: "x-mock-fault"),
                usage: head.headers.first(name: "x-mock-usage"),
                replyWords: head.headers.first(name: "x-mock-reply-words"))
            if let failures = fault.failFirst {
                let key = head.headers.first(name: "x-mock-key") ?? head.headers.first(name: "x-mock-fault") ?? ""
                if keyedCounter.next(key) >= failures { fault = fault.withoutFailures }
            }
        } catch {
            return errorReply(
                status: 400, message: error.message, family: family, requestID: requestID,
                fault: MockFault(), allocator: allocator, cloudflareEnvelope: envelope)
        }
        var verifiedSignature = false
        if family == .bedrock, let secret = configuration.awsSecretAccessKey {
            switch verifySignature(head: head, body: body, secret: secret) {
            case .success: verifiedSignature = true
            case .failure(let failure):
                return awsErrorReply(
                    status: 403,
                    type: failure.reason == .unknownAccessKey
                        ? "UnrecognizedClientException" : "InvalidSignatureException",
                    message: failure.message, requestID: requestID, allocator: allocator)
            }
        }
        guard let endpoint, head.method == .POST else {
            return errorReply(
                status: 404, message: "Invalid URL (\(head.method.rawValue) \(path))", family: family,
                requestID: requestID, fault: fault, allocator: allocator, cloudflareEnvelope: envelope)
        }
        if let status = fault.status {
            return errorReply(
                status: status, message: "Injected failure with status \(status).", family: family,
                requestID: requestID, fault: fault, allocator: allocator, cloudflareEnvelope: envelope)
        }
        let request: MockRequest
        do {
            request = try MockRequest.parse(endpoint: endpoint, body: body, model: route?.model)
        } catch {
            return errorReply(
                status: 400, message: error.message, family: family, requestID: requestID,
                fault: fault, allocator: allocator, cloudflareEnvelope: envelope)
        }

        let words = reply(wordCount: fault.replyWords)
        let usage = self.usage(for: request, outputWords: words.words.count, fault: fault)
        let stream = (request.stream || route?.pathStreams == true) && endpoint != .embeddings
        var headers = baseHeaders(
            family: family, stream: stream && (endpoint != .generateContent || route?.serverSentEvents == true),
            requestID: requestID, fault: fault)
        var replyBody: MockReply.Body
        switch endpoint {
        case .chatCompletions:
            replyBody =
                request.stream
                ? .events(chatCompletionEvents(request, words: words, usage: usage, allocator: allocator))
                : .full(chatCompletion(request, words: words, usage: usage, allocator: allocator))
        case .responses:
            replyBody =
                request.stream
                ? .events(responseEvents(request, words: words, usage: usage, allocator: allocator))
                : .full(response(request, words: words, usage: usage, allocator: allocator))
        case .embeddings:
            replyBody = .full(embeddings(request, usage: usage, allocator: allocator))
        case .messages:
            replyBody =
                request.stream && family != .bedrock
                ? .events(messageEvents(request, words: words, usage: usage, allocator: allocator))
                : .full(message(request, words: words, usage: usage, allocator: allocator))
        case .generateContent:
            replyBody =
                stream
                ? .events(
                    generateContentEvents(
                        request, words: words, usage: usage, serverSentEvents: route?.serverSentEvents == true,
                        allocator: allocator))
                : .full(generateContent(request, words: words, usage: usage, allocator: allocator))
        case .cohereChat:
            replyBody =
                request.stream
                ? .events(cohereChatEvents(request, words: words, usage: usage, allocator: allocator))
                : .full(cohereChat(request, words: words, usage: usage, allocator: allocator))
        case .workersAIRun:
            replyBody =
                request.stream
                ? .events(workersAIRunEvents(request, words: words, usage: usage, allocator: allocator))
                : .full(workersAIRun(request, words: words, usage: usage, allocator: allocator))
        case .textGeneration:
            replyBody =
                request.stream
                ? .events(textGenerationEvents(request, words: words, usage: usage, allocator: allocator))
                : .full(textGeneration(request, words: words, allocator: allocator))
        case .converse:
            replyBody =
                stream
                ? .events(converseStreamEvents(request, words: words, usage: usage, allocator: allocator))
                : .full(converse(request, words: words, usage: usage, allocator: allocator))
        }
        if family == .bedrock, endpoint == .messages, stream {
            // InvokeModelWithResponseStream: the Anthropic stream's events, each in a `chunk` event.
            replyBody = .events(invokeStreamEvents(request, words: words, usage: usage, allocator: allocator))
        }
        if verifiedSignature { headers.add(name: "x-mock-signature", value: "verified") }
        if case .full(let buffer) = replyBody {
            headers.add(name: "content-length", value: String(buffer.readableBytes))
        }
        return MockReply(status: .ok, headers: headers, body: replyBody, fault: fault)
    }

    /// Gives a reused reply the next request id.
    func renumber(_ reply: inout MockReply) {
        let id = "req_" + hex(counter.next())
        if reply.headers.contains(name: "request-id") {
            reply.headers.replaceOrAdd(name: "request-id", value: id)
        }
        reply.headers.replaceOrAdd(name: "x-request-id", value: id)
    }

    /// The configured reply, or `count` words cycling through it.
    func reply(wordCount count: Int?) -> Reply {
        let words = defaultReply.words
        guard let count, count != words.count, !words.isEmpty else { return defaultReply }
        return Reply(words: (0..<count).map { words[$0 % words.count] })
    }

    func usage(for request: MockRequest, outputWords: Int, fault: MockFault) -> Usage {
        let input = fault.inputTokens ?? request.inputTokens
        // Cohere, Workers AI's REST run and text-generation-inference report neither cache reads nor reasoning.
        let cached =
            [.cohereChat, .workersAIRun, .textGeneration].contains(request.endpoint)
            ? 0 : min(fault.cachedTokens, input)
        let writesReported = [.messages, .chatCompletions, .converse].contains(request.endpoint)
        let cacheWrite = writesReported ? min(fault.cacheWriteTokens, input - cached) : 0
        let cacheWrite1h = request.endpoint == .messages ? min(fault.cacheWrite1hTokens, cacheWrite) : 0
        let reasoning =
            [.embeddings, .messages, .cohereChat, .converse, .workersAIRun, .textGeneration].contains(request.endpoint)
            ? 0 : fault.reasoningTokens
        let output = request.endpoint == .embeddings ? 0 : outputWords + reasoning
        return Usage(
            input: input, cached: request.endpoint == .embeddings ? 0 : cached,
            cacheWrite: cacheWrite, cacheWrite1h: cacheWrite1h, output: output, reasoning: reasoning)
    }

    func baseHeaders(family: Family, stream: Bool, requestID: UInt64, fault: MockFault) -> HTTPHeaders {
        var headers =
            family == .google
            ? (stream ? Self.googleStreamHeaders : Self.googleJSONHeaders)
            : family == .bedrock
                ? (stream ? Self.bedrockStreamHeaders : Self.bedrockJSONHeaders)
                : stream ? Self.streamHeaders[family] : Self.jsonHeaders[family]
        let id = "req_" + hex(requestID)
        switch family {
        case .openAI:
            headers.add(name: "openai-processing-ms", value: String(fault.delayMilliseconds + 1))
            headers.add(name: "x-request-id", value: id)
        case .anthropic:
            headers.add(name: "request-id", value: id)
            headers.add(name: "x-request-id", value: id)
        case .google:
            headers.add(name: "x-request-id", value: id)
        case .bedrock:
            headers.add(name: "x-amzn-requestid", value: Self.awsRequestID(requestID))
        }
        return headers
    }

    private static let jsonHeaders = FamilyHeaders(
        openAI: HTTPHeaders([
            ("content-type", "application/json"),
            ("openai-organization", "tollgate-mock"),
            ("openai-version", "2020-10-01"),
            ("x-ratelimit-limit-requests", "10000"),
            ("x-ratelimit-limit-tokens", "30000000"),
            ("x-ratelimit-remaining-requests", "9999"),
            ("x-ratelimit-remaining-tokens", "29999000"),
            ("server", "tollgate-mock-provider"),
        ]),
        anthropic: HTTPHeaders([
            ("content-type", "application/json"),
            ("anthropic-organization-id", "tollgate-mock"),
            ("anthropic-ratelimit-requests-limit", "4000"),
            ("anthropic-ratelimit-requests-remaining", "3999"),
            ("server", "tollgate-mock-provider"),
        ]))

    private static let streamHeaders = FamilyHeaders(
        openAI: HTTPHeaders([
            ("content-type", "text/event-stream; charset=utf-8"),
            ("cache-control", "no-cache"),
            ("openai-organization", "tollgate-mock"),
            ("openai-version", "2020-10-01"),
            ("server", "tollgate-mock-provider"),
        ]),
        anthropic: HTTPHeaders([
            ("content-type", "text/event-stream; charset=utf-8"),
            ("cache-control", "no-cache"),
            ("anthropic-organization-id", "tollgate-mock"),
            ("server", "tollgate-mock-provider"),
        ]))

    private struct FamilyHeaders: Sendable {
        var openAI: HTTPHeaders
        var anthropic: HTTPHeaders

        subscript(family: Family) -> HTTPHeaders {
            switch family {
            case .openAI: openAI
            case .anthropic: anthropic
            case .google, .bedrock: HTTPHeaders()
            }
        }
    }

    func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 16 - digits.utf8.count)) + digits
    }

    /// A stable identifier body derived from the request fingerprint (32 hex digits).
    func identifier(_ fingerprint: UInt64, salt: UInt64) -> String {
        var buffer = ByteBuffer()
        buffer.writeIdentifier(fingerprint, salt: salt)
        return String(buffer: buffer)
    }

    /// SplitMix64's finalizer: a cheap, well-spread 64-bit mix.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
