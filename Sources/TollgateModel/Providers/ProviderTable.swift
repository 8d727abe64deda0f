/// The providers the gateway knows, by slug. Data, not code: add a row to support a new provider.
public struct ProviderTable: Sendable {
    private var bySlug: [String: Provider]

    public init(_ providers: [Provider]) {
        bySlug = Dictionary(providers.map { ($0.slug, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// The built-in table: each provider's public API base URL.
    ///
    /// `/v1/{account}/{gateway}/{slug}/{rest}` goes to `{baseURL}/{rest}`, as Cloudflare AI Gateway maps
    /// `https://gateway.ai.cloudflare.com/v1/{account}/{gateway}/{slug}/{rest}`, so a client that points its SDK's
    /// base URL at the gateway path sends the same `{rest}` it would send the provider. Checked on 2026-11-25
    /// against Cloudflare's provider pages (developers.cloudflare.com/ai-gateway/usage/providers/{openai, anthropic,
    /// google-ai-studio, groq, mistral, deepseek, openrouter, perplexity, grok}) and the providers' references:
    /// - openai: `https://api.openai.com/v1` — SDKs append `/chat/completions`, `/responses`, `/embeddings`.
    /// - anthropic: `https://api.anthropic.com` — the SDK appends `/v1/messages`.
    /// - google-ai-studio: `https://generativelanguage.googleapis.com` — clients send
    ///   `/v1beta/models/{model}:generateContent` (Cloudflare's examples use `/v1/models/…`; both versions exist).
    /// - groq: `https://api.groq.com/openai/v1` — Cloudflare: "replace https://api.groq.com/openai/v1 with …/groq".
    /// - mistral: `https://api.mistral.ai` — Cloudflare's URL is `…/mistral/v1/chat/completions` and Mistral's own
    ///   SDK appends `/v1/…` to its server URL, so the base has no `/v1`.
    /// - deepseek: `https://api.deepseek.com` — `…/deepseek/chat/completions` (DeepSeek serves both `/chat/…` and
    ///   `/v1/chat/…`).
    /// - openrouter: `https://openrouter.ai/api/v1` — Cloudflare: "replace
    ///   https://openrouter.ai/api/v1/chat/completions with …/openrouter/chat/completions", which is what an OpenAI
    ///   SDK with base URL `…/openrouter` sends.
    /// - perplexity-ai: `https://api.perplexity.ai` — Cloudflare: `…/perplexity-ai/chat/completions`; Perplexity's
    ///   OpenAI-compatibility page sets this base URL.
    /// - grok: `https://api.x.ai/v1` — Cloudflare: "replace https://api.x.ai/v1 with …/grok", which is what an
    ///   OpenAI SDK with base URL `…/grok` sends. (Cloudflare's curl examples for grok and openrouter show an extra
    ///   `/v1` segment, `…/grok/v1/chat/completions`; that form contradicts their own replace rule and SDK examples,
    ///   and is not mapped specially here.)
    ///
    /// Stream usage (`Provider.streamUsagePaths`): which providers' streaming chat completions report usage only
    /// on request. Checked on 2026-11-25 in the providers' documentation and, where noted, secondary sources:
    /// - openai: yes, `/chat/completions` and the legacy `/completions` — the API reference's
    ///   `stream_options.include_usage`: "an additional chunk will be streamed before the `data: [DONE]` message
    ///   … the `choices` field will always be an empty array"; without it no usage is sent. The Responses API
    ///   always reports usage in `response.completed` and is left alone.
    /// - deepseek: yes, `/chat/completions` and `/v1/chat/completions` (both served) — DeepSeek's "Create Chat
    ///   Completion" reference (api-docs.deepseek.com/api/create-chat-completion) takes `stream_options` with
    ///   OpenAI's `include_usage` semantics; seen through the ds-api client (docs.rs/ds-api, whose request type
    ///   follows that reference) and DeepSeek-serving API docs, not on DeepSeek's page itself.
    /// - grok (xAI): yes, `/chat/completions` — xAI's API is OpenAI-compatible (docs.x.ai/api); recorded OpenAI
    ///   SDK traffic to api.x.ai/v1/chat/completions with `stream_options.include_usage` is answered normally.
    ///   xAI's own reference page for the field was not found; a stream that still has no usage stays unpriced.
    /// - groq: no — Groq reports stream usage in `x_groq.usage` of the final chunk without being asked, which
    ///   `UsageParser` already reads.
    /// - openrouter: no — OpenRouter documents `stream_options.include_usage` as deprecated with no effect: "full
    ///   usage details are always included" (openrouter.ai/docs, ChatStreamOptions).
    /// - perplexity-ai: no — Perplexity's streaming guide (docs.perplexity.ai/guides/streaming-responses) delivers
    ///   usage stats with the search results in the final chunk(s) of every stream.
    /// - mistral: no — Mistral's stream reports `usage` in its last chunk without being asked (its chunk schema
    ///   carries `usage`, e.g. docs.rs/mistral-openapi-client generated from Mistral's OpenAPI document); a
    ///   third-party description (apis.io) mentions `stream_options.include_usage`, which Mistral's own docs did
    ///   not confirm, so the field is not sent.
    /// - anthropic, google-ai-studio: not OpenAI chat completions; their streams always carry usage.
    /// - azure-openai: not asked. Azure accepts `stream_options` only from some `api-version`s on, and the gateway
    ///   does not add a field an older version refuses; a client that asks gets its usage chunk and is priced.
    ///
    /// The templated providers (`azure-openai`, `google-vertex-ai`, `aws-bedrock`, `workers-ai`) have no fixed base
    /// URL: their path names the host (Workers AI: the gateway path's account names the Cloudflare account); see
    /// `ProviderTemplate` for the shapes and their sources.
    public static let builtIn = ProviderTable([
        Provider(
            slug: "openai", baseURL: "https://api.openai.com/v1", api: .openAI,
            streamUsagePaths: ["/chat/completions", "/completions"]),
        Provider(slug: "anthropic", baseURL: "https://api.anthropic.com", api: .anthropic),
        Provider(slug: "google-ai-studio", baseURL: "https://generativelanguage.googleapis.com", api: .gemini),
        Provider(slug: "groq", baseURL: "https://api.groq.com/openai/v1", api: .openAI),
        Provider(slug: "mistral", baseURL: "https://api.mistral.ai", api: .openAI),
        Provider(
            slug: "deepseek", baseURL: "https://api.deepseek.com", api: .openAI,
            streamUsagePaths: ["/chat/completions", "/v1/chat/completions"]),
        Provider(slug: "openrouter", baseURL: "https://openrouter.ai/api/v1", api: .openAI),
        Provider(slug: "perplexity-ai", baseURL: "https://api.perplexity.ai", api: .openAI),
        Provider(
            slug: "grok", baseURL: "https://api.x.ai/v1", api: .openAI, streamUsagePaths: ["/chat/completions"]),
        Provider(template: .azureOpenAI, api: .openAI),
        Provider(template: .googleVertexAI, api: .gemini),
        // Bedrock's bodies are Converse JSON, the model family's own (Anthropic messages for Claude) or AWS event
        // streams; `UsageParser` tells them apart by their shape.
        Provider(template: .awsBedrock, api: .bedrock),
        // Checked on 2026-12-03 against Cloudflare's provider pages
        // (developers.cloudflare.com/ai-gateway/usage/providers/{cohere, cerebras, huggingface, workersai}):
        // - cohere: `https://api.cohere.ai` — Cloudflare: "replace https://api.cohere.ai/v1 … with …/cohere" and its
        //   curl posts to `…/cohere/v1/chat`; Cohere's SDKs append `/v1/…` or `/v2/chat` to the base, so the base
        //   has no version and both API versions pass. Usage: v2 chat `usage.billed_units` (see `UsageParser`).
        // - cerebras: `https://api.cerebras.ai/v1` — Cloudflare's curl posts to `…/cerebras/chat/completions`;
        //   Cerebras documents `https://api.cerebras.ai/v1` as its OpenAI-compatible base URL
        //   (inference-docs.cerebras.ai). Stream usage is not requested on the client's behalf: Cerebras's own
        //   documentation of `stream_options` was not found.
        // - huggingface: `https://api-inference.huggingface.co/models` — Cloudflare: "replace
        //   https://api-inference.huggingface.co/models/ … with …/huggingface", the model following
        //   (`…/huggingface/bigcode/starcoder`). Hugging Face has since moved serverless inference to
        //   router.huggingface.co (cloudflare/cloudflare-docs#27332); `--upstream huggingface=URL` points
        //   elsewhere until Cloudflare's page changes. Task responses (`[{"generated_text": …}]`) report no
        //   usage and stay unpriced. The path names the model that runs (`modelLeadsPath`): a task's
        //   `/{model}`, or `/{model}/v1/chat/completions`, the model's OpenAI-compatible Messages API (Hugging
        //   Face's text-generation-inference documentation, huggingface.co/docs/text-generation-inference/
        //   messages_api), whose body `model` is a placeholder (`"tgi"` in that page's examples).
        // - workers-ai: templated (`ProviderTemplate.workersAI`, read 2026-12-03): its upstream,
        //   `https://api.cloudflare.com/client/v4/accounts/{account_id}/ai/run/{model}` (or `…/ai/v1/…` for the
        //   OpenAI-compatible routes), holds the Cloudflare account id, taken from the gateway path's `{account}` as
        //   in Cloudflare's URL. Usage: `result.usage` of the REST envelope; a streamed run (`"stream": true`) is
        //   SSE `data: {"response":"…"}` events ending with `data: {"response":"","usage":{…}}` before
        //   `data: [DONE]` — Cloudflare's text-generation model pages (cloudflare/cloudflare-docs
        //   `src/components/models/responses/TextGenerationResponses.astro`) show the `response` events and
        //   `[DONE]` but not the usage event, whose shape was taken from Cloudflare's model-page output templates
        //   and from client code parsing real Workers AI streams; a stream without it stays unpriced. The
        //   OpenAI-compatible `/v1/chat/completions` answers OpenAI's shapes; stream usage is not requested on the
        //   client's behalf (Cloudflare does not document `stream_options` for it).
        Provider(slug: "cohere", baseURL: "https://api.cohere.ai", api: .cohere),
        Provider(slug: "cerebras", baseURL: "https://api.cerebras.ai/v1", api: .openAI),
        Provider(
            slug: "huggingface", baseURL: "https://api-inference.huggingface.co/models", api: .openAI,
            modelLeadsPath: true),
        Provider(template: .workersAI, api: .openAI),
    ])

    public func provider(_ slug: some StringProtocol) -> Provider? { bySlug[String(slug)] }

    /// A copy whose `workers-ai` requests all go to one Cloudflare account (`--workers-ai-account`), whatever
    /// account the gateway path names. Nil when `account` could not be a path segment of the upstream URL.
    public func workersAIAccount(_ account: String) -> ProviderTable? {
        let slug = ProviderTemplate.workersAI.rawValue
        guard var provider = bySlug[slug], ProviderTemplate.isName(Substring(account)) else { return nil }
        provider.templateAccount = account
        var copy = self
        copy.bySlug[slug] = provider
        return copy
    }

    /// Known slugs, sorted.
    public var slugs: [String] { bySlug.keys.sorted() }

    /// A copy with one provider's base URL replaced (`--upstream openai=http://127.0.0.1:9090/v1`). For a templated
    /// provider the URL replaces the scheme, host and port its template names; the mapped path stays.
    public func overriding(_ slug: String, baseURL: String) -> ProviderTable? {
        guard var provider = bySlug[slug] else { return nil }
        let account = provider.templateAccount
        provider = Provider(
            slug: slug, baseURL: baseURL, api: provider.api, streamUsagePaths: provider.streamUsagePaths,
            template: provider.template, modelLeadsPath: provider.modelLeadsPath)
        provider.templateAccount = account
        var copy = self
        copy.bySlug[slug] = provider
        return copy
    }
}
