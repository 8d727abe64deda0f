/// The provider paths whose host and path are templated (Azure OpenAI deployments, Vertex AI publisher models),
/// which the mock answers in the shapes their providers use:
/// - `/openai/deployments/{deployment}/chat/completions`, `…/embeddings`, `…/responses`: OpenAI's shapes. The
///   response's `model` is the model the deployment serves: the `x-mock-model` header, else the deployment name.
/// - `/v1/projects/{project}/locations/{region}/publishers/{publisher}/models/{model}:generateContent` and
///   `:streamGenerateContent` (a JSON array, or server-sent events with `?alt=sse`): Gemini's shapes with
///   `usageMetadata`.
/// - `…/models/{model}:rawPredict` and `:streamRawPredict`: Anthropic messages (a stream when the body says
///   `"stream": true`), the model taken from the path.
/// - `/client/v4/accounts/{account_id}/ai/run/{model}` (Workers AI REST, model e.g. `@cf/meta/llama-3.1-8b-instruct`):
///   Workers AI's `result` envelope, or its `data: {"response":…}` events when the body says `"stream": true`; the
///   model taken from the path. `…/ai/v1/chat/completions` and `…/ai/v1/embeddings`: OpenAI's shapes.
struct MockRoute: Sendable, Equatable {
    var endpoint: MockRequest.Endpoint
    var family: MockResponder.Family
    /// The model the request is answered for, whatever its body says; nil: the body's `model`.
    var model: String?
    /// Gemini `streamGenerateContent`: the path, not the body, asks for a stream.
    var pathStreams = false
    /// Gemini stream framing: server-sent events (`alt=sse`) rather than one JSON array.
    var serverSentEvents = false

    /// The route for `path` (no query) and its `query`, or nil for any other path.
    init?(path: Substring, query: Substring?, headers modelHeader: String?) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false)
        if segments.count >= 5, segments[0].isEmpty, segments[1] == "openai", segments[2] == "deployments",
            !segments[3].isEmpty
        {
            let rest = segments[4...].joined(separator: "/")
            switch rest {
            case "chat/completions": endpoint = .chatCompletions
            case "embeddings": endpoint = .embeddings
            case "responses": endpoint = .responses
            default: return nil
            }
            family = .openAI
            model = modelHeader ?? String(segments[3])
            return
        }
        // "", "client", "v4", "accounts", id, "ai", "run" | "v1", …
        if segments.count >= 8, segments[0].isEmpty, segments[1] == "client", segments[2] == "v4",
            segments[3] == "accounts", !segments[4].isEmpty, segments[5] == "ai"
        {
            let rest = segments[7...].joined(separator: "/")
            family = .openAI
            switch (segments[6], rest) {
            case ("run", _) where !rest.isEmpty:
                endpoint = .workersAIRun
                model = rest.removingPercentEncodedAt()
            case ("v1", "chat/completions"): endpoint = .chatCompletions
            case ("v1", "embeddings"): endpoint = .embeddings
            default: return nil
            }
            return
        }
        // "", "v1", "projects", p, "locations", r, "publishers", pub, "models", "{model}:{method}"
        guard segments.count == 10, segments[0].isEmpty, segments[2] == "projects", segments[4] == "locations",
            segments[6] == "publishers", segments[8] == "models", let colon = segments[9].firstIndex(of: ":")
        else { return nil }
        let name = segments[9][..<colon]
        guard !name.isEmpty else { return nil }
        model = String(name)
        switch segments[9][segments[9].index(after: colon)...] {
        case "generateContent":
            endpoint = .generateContent
            family = .google
        case "streamGenerateContent":
            endpoint = .generateContent
            family = .google
            pathStreams = true
            serverSentEvents = query?.split(separator: "&").contains("alt=sse") ?? false
        case "rawPredict", "streamRawPredict":
            endpoint = .messages
            family = .anthropic
        default:
            return nil
        }
    }
}

extension String {
    /// The model id with a percent-encoded `@` (`%40`, as some clients send it) decoded.
    fileprivate func removingPercentEncodedAt() -> String {
        guard contains("%") else { return self }
        return replacing("%40", with: "@")
    }
}
