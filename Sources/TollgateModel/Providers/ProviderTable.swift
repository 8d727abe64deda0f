/// The providers the gateway knows, by slug. Data, not code: add a row to support a new provider.
public struct ProviderTable: Sendable {
    private var bySlug: [String: Provider]

    public init(_ providers: [Provider]) {
        bySlug = Dictionary(providers.map { ($0.slug, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// The built-in table: each provider's public API base URL.
    public static let builtIn = ProviderTable([
        Provider(slug: "openai", baseURL: "https://api.openai.com/v1", api: .openAI),
        Provider(slug: "anthropic", baseURL: "https://api.anthropic.com", api: .anthropic),
        Provider(slug: "google-ai-studio", baseURL: "https://generativelanguage.googleapis.com", api: .gemini),
        Provider(slug: "groq", baseURL: "https://api.groq.com/openai/v1", api: .openAI),
        Provider(slug: "mistral", baseURL: "https://api.mistral.ai/v1", api: .openAI),
        Provider(slug: "deepseek", baseURL: "https://api.deepseek.com", api: .openAI),
        Provider(slug: "openrouter", baseURL: "https://openrouter.ai/api/v1", api: .openAI),
        Provider(slug: "perplexity-ai", baseURL: "https://api.perplexity.ai", api: .openAI),
        Provider(slug: "grok", baseURL: "https://api.x.ai/v1", api: .openAI),
    ])

    public func provider(_ slug: some StringProtocol) -> Provider? { bySlug[String(slug)] }

    /// Known slugs, sorted.
    public var slugs: [String] { bySlug.keys.sorted() }

    /// A copy with one provider's base URL replaced (`--upstream openai=http://127.0.0.1:9090/v1`).
    public func overriding(_ slug: String, baseURL: String) -> ProviderTable? {
        guard var provider = bySlug[slug] else { return nil }
        provider = Provider(slug: slug, baseURL: baseURL, api: provider.api)
        var copy = self
        copy.bySlug[slug] = provider
        return copy
    }
}
