import TollgateModel

/// The provider paths whose host and path are templated (Azure OpenAI deployments, Vertex AI publisher models),
/// which the mock answers in the shapes their providers use:
/// - `/openai/deployments/{deployment}/chat/completions`, `…/embeddings`, `…/responses`: OpenAI's shapes. The
///   response's `model` is the model the deployment serves: the `x-mock-model` header, else the deployment name.
/// - `/v1/projects/{project}/locations/{region}/publishers/{publisher}/models/{model}:generateContent` and
///   `:streamGenerateContent` (a JSON array, or server-sent events with `?alt=sse`): Gemini's shapes with
///   `usageMetadata`.
/// - Google AI Studio's `/v1beta/models/{model}:generateContent` and `:streamGenerateContent`: the same.
/// - `…/models/{model}:rawPredict` and `:streamRawPredict`: Anthropic messages (a stream when the body says
///   `"stream": true`), the model taken from the path.
/// - `/client/v4/accounts/{account_id}/ai/run/{model}` (Workers AI REST, model e.g. `@cf/meta/llama-3.1-8b-instruct`):
///   Workers AI's `result` envelope, or its `data: {"response":…}` events when the body says `"stream": true`; the
///   model taken from the path. `…/ai/v1/chat/completions` and `…/ai/v1/embeddings`: OpenAI's shapes.
/// - `/models/{model}/v1/chat/completions` (Hugging Face's Inference API serving a model's OpenAI-compatible Messages
///   API, model e.g. `meta-llama/Llama-3.1-8B-Instruct`): OpenAI's shapes, answered for the path's model whatever the
///   body's `model` says (text-generation-inference takes a placeholder such as `tgi` there).
/// - `/models/{model}` (the Inference API's text-generation task, model e.g. `bigcode/starcoder`):
///   `[{"generated_text":…}]`, or with `"stream": true` text-generation-inference's token events, the last with
///   `details` (`generated_tokens`, `input_length`).
/// - Bedrock's `/model/{modelId}/converse` and `/converse-stream` (Converse, its stream an AWS event stream), and
///   `/invoke` and `/invoke-with-response-stream` (an Anthropic messages body, streamed as `chunk` events), the
///   model id percent-decoded from the path.
struct MockRoute: Sendable, Equatable {
    var endpoint: MockRequest.Endpoint
    var family: MockResponder.Family
    /// The model the request is answered for, whatever its body says; nil: the body's `model`.
    var model: String?
    /// Gemini `streamGenerateContent`: the path, not the body, asks for a stream.
    var pathStreams = false
    /// Gemini stream framing: server-sent events (`alt=sse`) rather than one JSON array.
    var serverSentEvents = false
    /// The Bedrock runtime operation the path names.
    var bedrock: BedrockUsage.Operation?

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
        // "", "models", {model…}, "v1", "chat", "completions"
        if segments.count >= 6, segments[0].isEmpty, segments[1] == "models",
            segments[(segments.count - 3)...].elementsEqual(["v1", "chat", "completions"])
        {
            endpoint = .chatCompletions
            family = .openAI
            model = segments[2..<(segments.count - 3)].joined(separator: "/")
            return
        }
        // "", "models", {model…}: a task (text generation) for the path's model.
        if segments.count >= 3, segments[0].isEmpty, segments[1] == "models", !segments[2].isEmpty,
            !segments[2].contains(":")
        {
            endpoint = .textGeneration
            family = .openAI
            model = segments[2...].joined(separator: "/")
            return
        }
        if let bedrock = BedrockUsage.route(path: String(path)), segments.count >= 4,
            segments[segments.count - 3] == "model"
        {
            self.bedrock = bedrock.operation
            family = .bedrock
            model = bedrock.modelID
            pathStreams = bedrock.operation.streams
            endpoint = bedrock.operation == .converse || bedrock.operation == .converseStream ? .converse : .messages
            return
        }
        let call: Substring
        if segments.count == 4, segments[0].isEmpty, segments[1] == "v1beta" || segments[1] == "v1",
            segments[2] == "models"
        {
            // Google AI Studio: "", "v1beta", "models", "{model}:{method}".
            call = segments[3]
        } else {
            // "", "v1", "projects", p, "locations", r, "publishers", pub, "models", "{model}:{method}"
            guard segments.count == 10, segments[0].isEmpty, segments[2] == "projects", segments[4] == "locations",
                segments[6] == "publishers", segments[8] == "models"
            else { return nil }
            call = segments[9]
        }
        guard let colon = call.firstIndex(of: ":") else { return nil }
        let name = call[..<colon]
        guard !name.isEmpty else { return nil }
        model = String(name)
        let aiStudio = segments.count == 4
        switch call[call.index(after: colon)...] {
        case "generateContent":
            endpoint = .generateContent
            family = .google
        case "streamGenerateContent":
            endpoint = .generateContent
            family = .google
            pathStreams = true
            serverSentEvents = query?.split(separator: "&").contains("alt=sse") ?? false
        case "rawPredict",
            "streamRawPredict" where !aiStudio:
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
