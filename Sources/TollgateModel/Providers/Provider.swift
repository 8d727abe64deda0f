/// An upstream AI provider the proxy forwards to: its slug in gateway paths, base URL and API family.
///
/// `/v1/{account}/{gateway}/{slug}/{rest}` is forwarded to `{baseURL}/{rest}`.
public struct Provider: Sendable, Equatable {
    /// Which wire format the provider speaks; chooses the usage parser.
    public enum API: String, Sendable, Equatable {
        /// OpenAI and the OpenAI-compatible providers (chat completions, responses, embeddings).
        case openAI
        /// Anthropic messages.
        case anthropic
        /// Google AI Studio (Gemini `generateContent` / `streamGenerateContent`).
        case gemini
    }

    public var slug: String
    /// Base URL without a trailing slash, e.g. `https://api.openai.com/v1`.
    public var baseURL: String
    public var api: API

    public init(slug: String, baseURL: String, api: API) {
        self.slug = slug
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.api = api
    }
}
