/// An upstream AI provider the proxy forwards to: its slug in gateway paths, base URL and API family.
///
/// `/v1/{account}/{gateway}/{slug}/{rest}` is forwarded to `{baseURL}/{rest}`.
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
