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

    /// Whether any of the provider's endpoints gets `stream_options.include_usage` added by the gateway.
    public var injectsStreamUsage: Bool { !streamUsagePaths.isEmpty }

    public init(
        slug: String, baseURL: String, api: API, streamUsagePaths: [String] = [], template: ProviderTemplate? = nil
    ) {
        self.slug = slug
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.api = api
        self.streamUsagePaths = streamUsagePaths
        self.template = template
    }

    /// A templated provider reached at the hosts its template names.
    public init(template: ProviderTemplate, api: API) {
        self.init(slug: template.rawValue, baseURL: "", api: api, template: template)
    }
}
