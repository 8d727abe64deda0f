import Testing

@testable import TollgateModel

@Suite("ProviderTemplate")
struct ProviderTemplateTests {
    @Test func azurePathsNameTheResourceHostAndTheDeploymentPath() throws {
        let mapping = try ProviderTemplate.azureOpenAI.map("/my-resource/chat-prod/chat/completions")
        #expect(mapping.host == "my-resource.openai.azure.com")
        #expect(mapping.path == "/openai/deployments/chat-prod/chat/completions")
        let embeddings = try ProviderTemplate.azureOpenAI.map("/eu-res/text.embed_3/embeddings")
        #expect(
            embeddings == .init(host: "eu-res.openai.azure.com", path: "/openai/deployments/text.embed_3/embeddings"))
    }

    @Test func vertexPathsNameTheRegionalHostAndKeepThePath() throws {
        let gemini =
            "/v1/projects/acme-ai/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent"
        #expect(
            try ProviderTemplate.googleVertexAI.map(Substring(gemini))
                == .init(host: "us-central1-aiplatform.googleapis.com", path: gemini))
        let claude =
            "/v1/projects/acme-ai/locations/global/publishers/anthropic/models/claude-sonnet-4@20250514:streamRawPredict"
        #expect(try ProviderTemplate.googleVertexAI.map(Substring(claude)).host == "aiplatform.googleapis.com")
        // Other endpoints under a location go to the same host.
        let other = "/v1/projects/acme-ai/locations/europe-west4/endpoints/openapi/chat/completions"
        #expect(
            try ProviderTemplate.googleVertexAI.map(Substring(other)).host == "europe-west4-aiplatform.googleapis.com")
    }

    @Test func bedrockPathsNameTheRegionalHostAndKeepTheEscapedModelPath() throws {
        let mapping = try ProviderTemplate.awsBedrock.map(
            "/bedrock-runtime/eu-west-1/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream")
        #expect(mapping.host == "bedrock-runtime.eu-west-1.amazonaws.com")
        #expect(mapping.path == "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream")
    }

    @Test func workersAIPathsNameTheAccountsRunOrOpenAICompatibleRoute() throws {
        let account: Substring = "0123456789abcdef0123456789abcdef"
        let run = try ProviderTemplate.workersAI.map("/@cf/meta/llama-3.1-8b-instruct", account: account)
        #expect(run.host == "api.cloudflare.com")
        #expect(run.path == "/client/v4/accounts/\(account)/ai/run/@cf/meta/llama-3.1-8b-instruct")
        let chat = try ProviderTemplate.workersAI.map("/v1/chat/completions", account: account)
        #expect(
            chat == .init(host: "api.cloudflare.com", path: "/client/v4/accounts/\(account)/ai/v1/chat/completions"))
        let escaped = try ProviderTemplate.workersAI.map("/%40hf/mistral/mistral-7b-instruct-v0.2", account: "acme")
        #expect(escaped.path == "/client/v4/accounts/acme/ai/run/%40hf/mistral/mistral-7b-instruct-v0.2")
    }

    @Test(arguments: [
        ("/@cf/meta/llama-3.1-8b-instruct", "", "the Cloudflare account id"),
        ("/", "acme", "the model"),
        ("/v1", "acme", "the OpenAI-compatible endpoint"),
        ("/v1/", "acme", "the OpenAI-compatible endpoint"),
    ])
    func workersAIPathsWithoutAccountOrModelNameWhatIsMissing(path: String, account: String, missing: String) {
        #expect {
            try ProviderTemplate.workersAI.map(Substring(path), account: Substring(account))
        } throws: { error in
            ((error as? ProviderTemplate.Failure)?.message ?? "").contains("workers-ai path is missing \(missing)")
        }
    }

    @Test(arguments: [
        ("/@cf/../../../zones", "acme"),
        ("/@cf/meta/./x", "acme"),
        ("/@cf/%2E%2e/%2e%2E/zones", "acme"),
        ("/@cf/meta%2F..%2F..", "acme"),
        ("/v1/../../../zones", "acme"),
        ("/v1/chat/%2e%2e/%2E%2E/x", "acme"),
        ("/@cf/meta/llama", "acme/../other"),
        ("/@cf/meta/llama", "a%2Fb"),
    ])
    func workersAIPartsThatCouldLeaveTheAccountsRouteAreRefused(path: String, account: String) {
        #expect(throws: ProviderTemplate.Failure.self) {
            try ProviderTemplate.workersAI.map(Substring(path), account: Substring(account))
        }
    }

    @Test(arguments: [
        (ProviderTemplate.azureOpenAI, "/", "the resource"),
        (.azureOpenAI, "/my-resource", "the deployment"),
        (.azureOpenAI, "/my-resource/", "the deployment"),
        (.azureOpenAI, "/my-resource/chat-prod", "the API path after the deployment"),
        (.azureOpenAI, "/my-resource/chat-prod/", "the API path after the deployment"),
        (.googleVertexAI, "/v1/projects/acme", "locations/"),
        (.googleVertexAI, "/v1/projects/acme/locations/", "the region"),
        (.googleVertexAI, "/v1/projects/acme/locations/us-central1", "the endpoint after the region"),
        (.googleVertexAI, "/v1/projects/acme/locations/us-central1/publishers/google/models/gemini", "the model"),
        (.googleVertexAI, "/v1/projects/acme/locations/us-central1/publishers/google/models/m:", "the method"),
        (.awsBedrock, "/model/x/converse", "bedrock-runtime/"),
        (.awsBedrock, "/bedrock-runtime/", "the region"),
        (.awsBedrock, "/bedrock-runtime/us-east-1", "the API path after the region"),
        (.awsBedrock, "/bedrock-runtime/us-east-1/model/", "the model id"),
        (.awsBedrock, "/bedrock-runtime/us-east-1/model/amazon.nova-lite-v1%3A0", "the operation"),
    ])
    func incompletePathsNameWhatIsMissing(template: ProviderTemplate, path: String, missing: String) {
        #expect {
            try template.map(Substring(path))
        } throws: { error in
            let message = (error as? ProviderTemplate.Failure)?.message ?? ""
            return message.contains("missing \(missing)") && message.contains(template.rawValue)
        }
    }

    @Test(arguments: [
        (ProviderTemplate.azureOpenAI, "/evil.example.com%23/dep/chat/completions"),
        (.azureOpenAI, "/res:8443/dep/chat/completions"),
        (.azureOpenAI, "/res/../chat/completions"),
        (.azureOpenAI, "/-res/dep/chat/completions"),
        (.googleVertexAI, "/v1/projects/p/locations/attacker.example@x/publishers/google/models/m:generateContent"),
        (.awsBedrock, "/bedrock-runtime/us-east-1.evil.example/model/m/converse"),
    ])
    func hostPartsThatCouldChangeTheHostAreRefused(template: ProviderTemplate, path: String) {
        #expect(throws: ProviderTemplate.Failure.self) { try template.map(Substring(path)) }
    }

    @Test func modelAndStreamComeFromThePathWhereItNamesThem() {
        let vertex = ProviderTemplate.googleVertexAI
        let gemini =
            "/v1/projects/p/locations/us-central1/publishers/google/models/gemini-2.5-flash:streamGenerateContent"
        #expect(vertex.model(inPath: gemini) == "gemini-2.5-flash")
        #expect(vertex.streams(path: gemini))
        let claude =
            "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-3-5-haiku@20241022:rawPredict"
        #expect(vertex.model(inPath: claude) == "claude-3-5-haiku@20241022")
        #expect(!vertex.streams(path: claude))
        #expect(vertex.streams(path: claude.replacingOccurrences(of: ":rawPredict", with: ":streamRawPredict")))

        let bedrock = ProviderTemplate.awsBedrock
        let converse = "/bedrock-runtime/us-east-1/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
        #expect(bedrock.model(inPath: converse) == "anthropic.claude-3-haiku-20240307-v1:0")
        #expect(!bedrock.streams(path: converse))
        #expect(bedrock.streams(path: "/bedrock-runtime/us-east-1/model/m/invoke-with-response-stream"))

        #expect(ProviderTemplate.azureOpenAI.model(inPath: "/res/gpt4o-deployment/chat/completions") == nil)

        let workers = ProviderTemplate.workersAI
        #expect(workers.model(inPath: "/@cf/meta/llama-3.1-8b-instruct") == "@cf/meta/llama-3.1-8b-instruct")
        #expect(workers.model(inPath: "/%40cf/meta/llama-3.2-3b-instruct") == "@cf/meta/llama-3.2-3b-instruct")
        #expect(workers.model(inPath: "/v1/chat/completions") == nil)
        #expect(!workers.streams(path: "/@cf/meta/llama-3.1-8b-instruct"))
    }

    func exchange(provider: String, path: String, request: String, response: String) -> Exchange {
        Exchange(
            id: LogID(high: 1, low: 2), startedAt: 1_764_028_800_123, account: "acme", gateway: "prod",
            provider: provider, method: "POST", path: path, query: nil, requestHeaders: [],
            requestBody: Array(request.utf8), statusCode: 200,
            responseHeaders: [Header("content-type", "application/json")],
            responseBody: Array(response.utf8), responseSize: 1, requestSize: 1, durationMicros: 1, ttftMicros: nil,
            error: nil)
    }

    @Test func azureRecordsTheResponsesModelNotTheDeployment() {
        let response = #"{"model":"gpt-4o-mini-2024-07-18","usage":{"prompt_tokens":5,"completion_tokens":6}}"#
        // The OpenAI SDK's Azure client sends the deployment name as `model`.
        let record = LogRecord(
            exchange: exchange(
                provider: "azure-openai", path: "/res/chat-prod/chat/completions",
                request: #"{"model":"chat-prod","messages":[]}"#, response: response),
            providers: .builtIn)
        #expect(record.model == "gpt-4o-mini-2024-07-18")
        #expect(record.usage.tokensIn == 5 && record.usage.tokensOut == 6)
        let noModel = LogRecord(
            exchange: exchange(
                provider: "azure-openai", path: "/res/chat-prod/chat/completions", request: #"{"messages":[]}"#,
                response: response),
            providers: .builtIn)
        #expect(noModel.model == "gpt-4o-mini-2024-07-18")
    }

    @Test func vertexAnthropicRecordsThePathsModelAndStream() {
        let record = LogRecord(
            exchange: exchange(
                provider: "google-vertex-ai",
                path:
                    "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-3-5-haiku@20241022:rawPredict",
                request: #"{"anthropic_version":"vertex-2023-10-16","max_tokens":5,"messages":[]}"#,
                response: #"{"type":"message","usage":{"input_tokens":7,"output_tokens":3}}"#),
            providers: .builtIn)
        #expect(record.model == "claude-3-5-haiku@20241022")
        #expect(record.usage.tokensIn == 7 && record.usage.tokensOut == 3)
        #expect(!record.stream)
    }

    @Test func workersAIRunRecordsThePathsModelAndTheOpenAIRouteTheBodys() {
        let run = LogRecord(
            exchange: exchange(
                provider: "workers-ai", path: "/@cf/meta/llama-3.2-3b-instruct", request: #"{"prompt":"Hi"}"#,
                response:
                    #"{"result":{"response":"Hello","usage":{"prompt_tokens":4,"completion_tokens":2,"total_tokens":6}},"success":true,"errors":[],"messages":[]}"#
            ),
            providers: .builtIn)
        #expect(run.model == "@cf/meta/llama-3.2-3b-instruct")
        #expect(run.usage.tokensIn == 4 && run.usage.tokensOut == 2)
        // The run's model is the path's, whatever the body says.
        let named = LogRecord(
            exchange: exchange(
                provider: "workers-ai", path: "/@cf/meta/llama-3.2-3b-instruct",
                request: #"{"model":"something-else","prompt":"Hi"}"#, response: #"{"result":{"response":"x"}}"#),
            providers: .builtIn)
        #expect(named.model == "@cf/meta/llama-3.2-3b-instruct")
        let chat = LogRecord(
            exchange: exchange(
                provider: "workers-ai", path: "/v1/chat/completions",
                request: #"{"model":"@cf/meta/llama-3.1-8b-instruct-fp8","messages":[]}"#,
                response:
                    #"{"model":"@cf/meta/llama-3.1-8b-instruct-fp8","usage":{"prompt_tokens":9,"completion_tokens":1}}"#
            ),
            providers: .builtIn)
        #expect(chat.model == "@cf/meta/llama-3.1-8b-instruct-fp8")
        #expect(chat.usage.tokensIn == 9 && chat.usage.tokensOut == 1)
    }
}
