import Testing

@testable import TollgateModel

@Suite("LogRecord(exchange:providers:)")
struct LogRecordExchangeTests {
    func exchange(
        provider: String = "openai", path: String = "/chat/completions", query: String? = nil, status: Int = 200,
        request: String = #"{"model":"gpt-4o","messages":[]}"#,
        responseHeaders: [(name: String, value: String)] = [("Content-Type", "application/json")],
        response: String = #"{"model":"gpt-4o-2024-08-06","usage":{"prompt_tokens":5,"completion_tokens":6}}"#,
        error: String? = nil, collectPayload: Bool = true
    ) -> Exchange {
        Exchange(
            id: LogID(high: 0x0190_A6F2_7C1E_7D3A, low: 0x9B2F_1C2D_3E4F_5A6B), startedAt: 1_764_028_800_123,
            account: "acme", gateway: "prod", provider: provider, method: "POST", path: path, query: query,
            requestHeaders: [("Authorization", "Bearer sk-SECRET"), ("Content-Type", "application/json")],
            requestBody: Array(request.utf8), statusCode: status, responseHeaders: HeaderList(pairs: responseHeaders),
            responseBody: Array(response.utf8), responseSize: 999, requestSize: 111, durationMicros: 5000,
            ttftMicros: 1000, error: error, metadata: [MetadataEntry("team", .string("a"))],
            collectPayload: collectPayload)
    }

    @Test func copiesTheExchangeAndParsesUsage() {
        let r = LogRecord(exchange: exchange(), providers: .builtIn)
        #expect(r.id == LogID(high: 0x0190_A6F2_7C1E_7D3A, low: 0x9B2F_1C2D_3E4F_5A6B))
        #expect(r.createdAt == 1_764_028_800_123)
        #expect((r.account, r.gateway, r.provider, r.method) == ("acme", "prod", "openai", "POST"))
        #expect(r.model == "gpt-4o")  // the request's, not the response's dated snapshot
        #expect(r.statusCode == 200 && r.success && !r.stream)
        #expect(r.usage == Usage(tokensIn: 5, tokensOut: 6))
        #expect((r.requestSize, r.responseSize, r.durationMicros, r.ttftMicros) == (111, 999, 5000, 1000))
        #expect(r.metadata == [MetadataEntry("team", .string("a"))])
        #expect(r.requestHeaders == [Header("authorization", "REDACTED"), Header("content-type", "application/json")])
        #expect(r.payloadStored)
        #expect(r.requestBody == Array(#"{"model":"gpt-4o","messages":[]}"#.utf8))
    }

    @Test func carriesWhatTheControlsSet() {
        var retry = exchange()
        retry.eventID = "client-event"
        retry.attempt = 2
        retry.step = 1
        retry.cached = true
        let r = LogRecord(exchange: retry, providers: .builtIn)
        #expect(r.eventID == "client-event" && r.attempt == 2 && r.step == 1 && r.cached && r.refusal == nil)
        #expect(r.logged && r.usage == Usage(tokensIn: 5, tokensOut: 6))

        // The first attempt of an event the gateway named: its own id is the event's, so none is kept.
        var first = exchange()
        first.eventID = first.id.description
        let own = LogRecord(exchange: first, providers: .builtIn)
        #expect(own.eventID == nil && own.effectiveEventID == first.id.description && own.attempt == 1)
    }

    @Test func aRefusalIsAUsageRecordWhateverTheLogSettings() {
        var refused = exchange(status: 429, response: #"{"error":{"code":"rate_limited"}}"#)
        refused.refusal = .rateLimited
        refused.logged = true
        let r = LogRecord(exchange: refused, providers: .builtIn)
        #expect(!r.logged && !r.payloadStored && r.refusal == .rateLimited)
        #expect(r.statusCode == 429 && !r.success && r.path.isEmpty && r.metadata.isEmpty)
        #expect(r.model == "gpt-4o")
    }

    @Test func modelFallsBackToTheResponse() {
        let r = LogRecord(exchange: exchange(request: ""), providers: .builtIn)
        #expect(r.model == "gpt-4o-2024-08-06")
    }

    @Test func geminiModelComesFromThePathBeforeTheResponse() {
        let e = exchange(
            provider: "google-ai-studio", path: "/v1beta/models/gemini-flash-latest:generateContent", request: "{}",
            response:
                #"{"modelVersion":"gemini-2.5-flash","usageMetadata":{"promptTokenCount":1,"candidatesTokenCount":2}}"#)
        #expect(LogRecord(exchange: e, providers: .builtIn).model == "gemini-flash-latest")
        // Not for other providers: their paths do not name models.
        let o = exchange(path: "/models/gpt-4o:generateContent", request: "", response: "{}")
        #expect(LogRecord(exchange: o, providers: .builtIn).model == nil)
    }

    @Test func pathModelReadsOnlyGeminiStyleModelPaths() {
        #expect(RequestSummary.pathModel("/v1beta/models/gemini-2.5-flash:generateContent") == "gemini-2.5-flash")
        #expect(RequestSummary.pathModel("/v1/models/gemini-2.0-flash:streamGenerateContent") == "gemini-2.0-flash")
        #expect(RequestSummary.pathModel("/v1beta/models") == nil)
        #expect(RequestSummary.pathModel("/v1beta/models/:generateContent") == nil)
        #expect(RequestSummary.pathModel("/v1beta/models/a/b:generateContent") == nil)
        #expect(RequestSummary.pathModel("/v1beta/models/gemini-2.5-flash") == nil)
        #expect(RequestSummary.pathModel("") == nil)
    }

    @Test func streamFromRequestContentTypeOrGeminiPath() {
        #expect(LogRecord(exchange: exchange(request: #"{"model":"m","stream":true}"#), providers: .builtIn).stream)
        #expect(!LogRecord(exchange: exchange(request: #"{"model":"m","stream":false}"#), providers: .builtIn).stream)
        let sse = exchange(
            request: "", responseHeaders: [("content-type", "text/event-stream; charset=utf-8")], response: "")
        #expect(LogRecord(exchange: sse, providers: .builtIn).stream)
        let gemini = exchange(
            provider: "google-ai-studio", path: "/v1beta/models/g:streamGenerateContent", request: "{}")
        #expect(LogRecord(exchange: gemini, providers: .builtIn).stream)
    }

    @Test func successNeedsA2xxAndNoGatewayError() {
        #expect(!LogRecord(exchange: exchange(status: 429), providers: .builtIn).success)
        #expect(!LogRecord(exchange: exchange(status: 502, error: "upstream unreachable"), providers: .builtIn).success)
        let cut = LogRecord(
            exchange: exchange(status: 200, error: "upstream closed the stream mid-way"), providers: .builtIn)
        #expect(!cut.success)
        #expect(cut.error == "upstream closed the stream mid-way")
        #expect(LogRecord(exchange: exchange(status: 204), providers: .builtIn).success)
    }

    @Test func pathCarriesTheQueryWithSecretsRedacted() {
        let r = LogRecord(
            exchange: exchange(
                provider: "google-ai-studio", path: "/v1beta/models/g:streamGenerateContent",
                query: "alt=sse&key=AIzaSECRET"),
            providers: .builtIn)
        #expect(r.path == "/v1beta/models/g:streamGenerateContent?alt=sse&key=REDACTED")
        #expect(LogRecord(exchange: exchange(query: ""), providers: .builtIn).path == "/chat/completions")
    }

    @Test func withoutPayloadCollectionOnlyMetadataIsKept() {
        let r = LogRecord(exchange: exchange(collectPayload: false), providers: .builtIn)
        #expect(!r.payloadStored)
        #expect(r.requestHeaders.isEmpty && r.responseHeaders.isEmpty)
        #expect(r.requestBody.isEmpty && r.responseBody.isEmpty)
        #expect(r.usage == Usage(tokensIn: 5, tokensOut: 6))  // still parsed
        #expect(r.model == "gpt-4o")
        #expect(r.requestSize == 111 && r.responseSize == 999)
    }

    @Test func compressedResponsesGiveUnknownUsage() {
        let e = exchange(responseHeaders: [("Content-Type", "application/json"), ("Content-Encoding", "gzip")])
        #expect(LogRecord(exchange: e, providers: .builtIn).usage == Usage())
        let identity = exchange(responseHeaders: [
            ("Content-Type", "application/json"), ("Content-Encoding", "identity"),
        ])
        #expect(LogRecord(exchange: identity, providers: .builtIn).usage.tokensIn == 5)
    }

    @Test func unknownProviderStillParsesEveryWireFormat() {
        let e = exchange(
            provider: "my-proxy", request: "",
            response:
                #"{"type":"message","model":"claude-x","usage":{"input_tokens":3,"cache_read_input_tokens":4,"output_tokens":1}}"#
        )
        let r = LogRecord(exchange: e, providers: .builtIn)
        #expect(r.usage == Usage(tokensIn: 7, cachedTokensIn: 4, tokensOut: 1))
        #expect(r.model == "claude-x")
    }
}

@Suite("ProviderTable")
struct ProviderTableTests {
    @Test func builtInProvidersAndBaseURLs() {
        let table = ProviderTable.builtIn
        #expect(
            table.slugs == [
                "anthropic", "aws-bedrock", "azure-openai", "cerebras", "cohere", "deepseek", "google-ai-studio",
                "google-vertex-ai", "grok", "groq", "huggingface", "mistral", "openai", "openrouter", "perplexity-ai",
                "workers-ai",
            ])
        let expected: [String: (String, Provider.API)] = [
            "openai": ("https://api.openai.com/v1", .openAI),
            "anthropic": ("https://api.anthropic.com", .anthropic),
            "google-ai-studio": ("https://generativelanguage.googleapis.com", .gemini),
            "groq": ("https://api.groq.com/openai/v1", .openAI),
            "mistral": ("https://api.mistral.ai", .openAI),
            "deepseek": ("https://api.deepseek.com", .openAI),
            "openrouter": ("https://openrouter.ai/api/v1", .openAI),
            "perplexity-ai": ("https://api.perplexity.ai", .openAI),
            "grok": ("https://api.x.ai/v1", .openAI),
            "cohere": ("https://api.cohere.ai", .cohere),
            "cerebras": ("https://api.cerebras.ai/v1", .openAI),
            "huggingface": ("https://api-inference.huggingface.co/models", .openAI),
        ]
        for (slug, (url, api)) in expected {
            #expect(table.provider(slug)?.baseURL == url, "\(slug)")
            #expect(table.provider(slug)?.api == api, "\(slug)")
        }
        // Templated providers: the path names the host; no base URL until `--upstream` gives one.
        for template in ProviderTemplate.allCases {
            #expect(table.provider(template.rawValue)?.template == template)
            #expect(table.provider(template.rawValue)?.baseURL == "")
        }
        #expect(
            table.overriding("azure-openai", baseURL: "http://127.0.0.1:9/")?.provider("azure-openai")?.template
                == .azureOpenAI)
        #expect(table.provider("nope") == nil)
        // One Cloudflare account for every workers-ai request; kept when the URL is overridden.
        let fixed = table.workersAIAccount("0123456789abcdef0123456789abcdef")
        #expect(fixed?.provider("workers-ai")?.templateAccount == "0123456789abcdef0123456789abcdef")
        #expect(
            fixed?.overriding("workers-ai", baseURL: "http://127.0.0.1:9")?.provider("workers-ai")?.templateAccount
                == "0123456789abcdef0123456789abcdef")
        #expect(table.workersAIAccount("../zones") == nil)
        #expect(table.provider("workers-ai")?.templateAccount == nil)
    }

    @Test func overridingReplacesOneBaseURL() {
        let table = ProviderTable.builtIn.overriding("openai", baseURL: "http://127.0.0.1:9090/v1/")
        #expect(table?.provider("openai")?.baseURL == "http://127.0.0.1:9090/v1")
        #expect(table?.provider("openai")?.api == .openAI)
        #expect(table?.provider("anthropic")?.baseURL == "https://api.anthropic.com")
        #expect(ProviderTable.builtIn.overriding("nope", baseURL: "http://x") == nil)
    }

    /// Hugging Face's path names the model that runs, before whatever the body names; an override keeps that.
    @Test func huggingFaceTakesThePathsModel() throws {
        let table = try #require(ProviderTable.builtIn.overriding("huggingface", baseURL: "http://127.0.0.1:9/models"))
        let huggingFace = try #require(table.provider("huggingface"))
        #expect(huggingFace.modelLeadsPath)
        let chat = "/meta-llama/Llama-3.1-8B-Instruct/v1/chat/completions"
        #expect(huggingFace.model(path: chat, bodyModel: "tgi") == "meta-llama/Llama-3.1-8B-Instruct")
        #expect(huggingFace.model(path: "/bigcode/starcoder", bodyModel: nil) == "bigcode/starcoder")
        #expect(huggingFace.model(path: "/gpt2", bodyModel: nil) == "gpt2")
        #expect(huggingFace.model(path: "/org%2Fname", bodyModel: nil) == "org/name")
        // No model in the path: the body's.
        #expect(huggingFace.model(path: "/v1/chat/completions", bodyModel: "m") == "m")
        #expect(huggingFace.model(path: "/", bodyModel: nil) == nil)
        // Other providers keep the body's model.
        #expect(table.provider("openai")?.model(path: "/chat/completions", bodyModel: "gpt-x") == "gpt-x")
    }
}
