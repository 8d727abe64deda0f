/// An upstream AI provider the proxy forwards to: its slug in gateway paths, base URL and API family.
///
/// `/v1/{account}/{gateway}/{slug}/{rest}` is forwarded to `{baseURL}/{rest}`, except for a templated provider
/// (`template`), whose `{rest}` names the host and upstream path (see `ProviderTemplate`).
public struct Provider: Sendable, Equatable {
    /// Which wire format the provider speaks. `UsageParser` recognises every format by its field names (a provider
    /// may serve another's format, as xAI does with Anthropic's), so this decides only what the format alone
    /// implies, such as a Gemini request naming its model in the path.
    public enum API: String, Sendable, Equatable {
        /// OpenAI and the OpenAI-compatible providers (chat completions, responses, embeddings).
        case openAI
        /// Anthropic messages.
        case anthropic
        /// Google AI Studio (Gemini `generateContent` / `streamGenerateContent`).
        case gemini
        /// Amazon Bedrock runtime (`/model/{modelId}/converse|converse-stream|invoke|invoke-with-response-stream`):
        /// the path names the model and whether the response is a binary AWS event stream (`BedrockUsage`).
        case bedrock
        /// Cohere chat (`/v2/chat`, `usage.billed_units`).
        case cohere
    }

    public var slug: String
    /// Base URL without a trailing slash, e.g. `https://api.openai.com/v1`. For a templated provider: empty to reach
    /// the host its template names, or a URL whose scheme, host and port replace that host's (`serve --upstream`),
    /// the mapped path kept.
    public var baseURL: String
    /// How a templated provider's host and path are filled in from the request path; nil for a fixed base URL.
    public var template: ProviderTemplate?
    /// For `workers-ai`: the Cloudflare account id every request goes to (`serve --workers-ai-account`), in place of
    /// the gateway path's account. Nil: the path's account.
    public var templateAccount: String?
    public var api: API
    /// The forwarded paths (what follows the base URL, e.g. `/chat/completions`) whose streaming requests report
    /// token usage only when asked with `stream_options.include_usage: true`, in one extra usage-only chunk
    /// before `data: [DONE]`. For these the gateway asks on the client's behalf and keeps that chunk from a
    /// client that did not ask (see `StreamUsageOption`). Empty for providers that always report stream usage,
    /// reject the field, or do not speak OpenAI chat completions.
    public var streamUsagePaths: [String]
    /// Whether the forwarded path starts with the model id, which is the model that runs whatever the body says:
    /// Hugging Face's Inference API serves `/models/{model}` (a task, e.g. `…/huggingface/bigcode/starcoder`) and
    /// `/models/{model}/v1/chat/completions` (the model's OpenAI-compatible Messages API, whose body `model` is a
    /// placeholder such as `tgi`). See `modelLeadingPath(_:)`.
    public var modelLeadsPath = false

    /// Whether any of the provider's endpoints gets `stream_options.include_usage` added by the gateway.
    public var injectsStreamUsage: Bool { !streamUsagePaths.isEmpty }

    public init(
        slug: String, baseURL: String, api: API, streamUsagePaths: [String] = [], template: ProviderTemplate? = nil,
        modelLeadsPath: Bool = false
    ) {
        self.modelLeadsPath = modelLeadsPath
        self.slug = slug
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.api = api
        self.streamUsagePaths = streamUsagePaths
        self.template = template
    }

    /// The model a request names, as the record and the spend limits take it: `bodyModel` (what the request body or a
    /// Gemini path named), except where the provider's path names the model that runs (`modelLeadsPath`, a template
    /// that `prefersPathModel`), or names one the body left out (Vertex AI, Bedrock).
    public func model(path: String, bodyModel: String?) -> String? {
        if let template {
            guard bodyModel == nil || template.prefersPathModel else { return bodyModel }
            return template.model(inPath: path) ?? bodyModel
        }
        if modelLeadsPath { return Self.modelLeadingPath(path) ?? bodyModel }
        return bodyModel
    }

    /// The model id a path starts with: its segments before a `v1` segment (`/meta-llama/Llama-3.1-8B-Instruct/v1/…`
    /// → `meta-llama/Llama-3.1-8B-Instruct`), or all of them (`/bigcode/starcoder`), percent-decoded; nil when the
    /// path starts with `v1` or has no segment.
    public static func modelLeadingPath(_ path: String) -> String? {
        var segments: [Substring] = []
        for segment in path.split(separator: "/") {
            if segment == "v1" { break }
            segments.append(segment)
        }
        guard !segments.isEmpty else { return nil }
        return PercentDecoding.decoded(segments.joined(separator: "/"))
    }

    /// A templated provider reached at the hosts its template names.
    public init(template: ProviderTemplate, api: API) {
        self.init(slug: template.rawValue, baseURL: "", api: api, template: template)
    }
}
