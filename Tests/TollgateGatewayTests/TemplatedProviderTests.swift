import Foundation
import Testing
import TollgateModel

@testable import TollgateGateway

/// Providers whose path names the host: Azure OpenAI (resource, deployment), Vertex AI (region; Gemini and
/// Anthropic models) and Bedrock (region), end to end through the gateway against the mock provider, which the
/// gateway reaches through `--upstream`-style overrides that keep the mapped path.
@Suite(.serialized) struct TemplatedProviderTests {
    static let json = ["Content-Type": "application/json"]
    static let vertexBase = "/v1/default/default/google-vertex-ai/v1/projects/acme-ai/locations/us-central1/publishers"

    static func picodollars(_ value: Any?) -> Int64? { CostAccountingTests.picodollars(value) }

    func price(_ harness: GatewayHarness, provider: String, model: String) async throws {
        let row = """
            {"provider":"\(provider)","model":"\(model)","effective_from":"2020-01-01","input":2,"output":8,
             "cached_input":0.5,"source":"test"}
            """
        let created = try await harness.api("POST", "/api/v1/prices", json: row)
        #expect(created.status == 201, "\(created.text)")
    }

    /// tokens in × $2/M + tokens out × $8/M, cached input at $0.50/M.
    func expectedCost(_ log: [String: Any]) throws -> Int64 {
        let tokensIn = try #require(log["tokens_in"] as? Int64)
        let tokensOut = try #require(log["tokens_out"] as? Int64)
        let cached = log["cached_tokens_in"] as? Int64 ?? 0
        return (tokensIn - cached) * 2_000_000 + cached * 500_000 + tokensOut * 8_000_000
    }

    @Test func azureRoutesByResourceAndDeploymentAndLogsTheModelTheResponseNames() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        try await price(harness, provider: "azure-openai", model: "tollgate-azure-4o")
        var headers = Self.json
        headers["api-key"] = "azure-secret-key"
        headers["x-mock-model"] = "tollgate-azure-4o"
        let path = "/v1/default/default/azure-openai/my-resource/chat-prod/chat/completions?api-version=2024-10-21"
        // The OpenAI SDK's Azure client names the deployment as `model`; the log names what the deployment serves.
        let plain = try await harness.request(
            "POST", path, headers: headers,
            body: Data(#"{"model":"chat-prod","messages":[{"role":"user","content":"three words here"}]}"#.utf8))
        #expect(plain.status == 200, "\(plain.text)")
        #expect(try plain.json()["model"] as? String == "tollgate-azure-4o")
        let streamBody =
            #"{"stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"a streamed prompt"}]}"#
        let streamed = try await harness.request("POST", path, headers: headers, body: Data(streamBody.utf8))
        #expect(streamed.status == 200)
        #expect(streamed.text.contains("data: [DONE]"))

        let logs = try await harness.waitForLogs(query: "&order=asc", count: 2)
        #expect(logs.count == 2)
        for (log, stream) in zip(logs, [false, true]) {
            #expect(log["provider"] as? String == "azure-openai")
            #expect(log["model"] as? String == "tollgate-azure-4o")
            #expect(log["stream"] as? Bool == stream)
            #expect(log["tokens_in"] as? Int64 == 3)
            #expect((log["tokens_out"] as? Int64 ?? 0) > 0)
            #expect(Self.picodollars(log["cost"]) == (try expectedCost(log)))
            #expect((log["path"] as? String)?.hasPrefix("/my-resource/chat-prod/chat/completions?api-version=") == true)
        }
    }

    @Test func vertexGeminiIsPricedFromUsageMetadataPlainAndStreamed() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        try await price(harness, provider: "google-vertex-ai", model: "tollgate-gemini")
        var headers = Self.json
        headers["Authorization"] = "Bearer ya29.test-token"
        headers["x-mock-usage"] = "cached=2,reasoning=3"
        let body = Data(#"{"contents":[{"role":"user","parts":[{"text":"four words of prompt"}]}]}"#.utf8)
        let model = Self.vertexBase + "/google/models/tollgate-gemini"
        let plain = try await harness.request("POST", model + ":generateContent", headers: headers, body: body)
        #expect(plain.status == 200, "\(plain.text)")
        #expect(try plain.json()["usageMetadata"] != nil)
        let sse = try await harness.request(
            "POST", model + ":streamGenerateContent?alt=sse", headers: headers, body: body)
        #expect(sse.status == 200)
        #expect(sse.headers["content-type"]?.hasPrefix("text/event-stream") == true)
        let array = try await harness.request("POST", model + ":streamGenerateContent", headers: headers, body: body)
        #expect(array.status == 200)
        #expect(array.text.hasPrefix("["))

        let logs = try await harness.waitForLogs(query: "&order=asc", count: 3)
        #expect(logs.count == 3)
        for (log, stream) in zip(logs, [false, true, true]) {
            #expect(log["provider"] as? String == "google-vertex-ai")
            #expect(log["model"] as? String == "tollgate-gemini")
            #expect(log["stream"] as? Bool == stream)
            #expect(log["tokens_in"] as? Int64 == 4)
            #expect(log["cached_tokens_in"] as? Int64 == 2)
            #expect(log["reasoning_tokens"] as? Int64 == 3)
            // The mock's reply is its default words plus the reasoning tokens.
            #expect((log["tokens_out"] as? Int64 ?? 0) > 3)
            #expect(Self.picodollars(log["cost"]) == (try expectedCost(log)))
        }
    }

    @Test func vertexAnthropicTakesTheModelFromThePathAndAnUnlistedModelIsUnpriced() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let model = Self.vertexBase + "/anthropic/models/tollgate-claude@20250101"
        let plain = try await harness.request(
            "POST", model + ":rawPredict", headers: Self.json,
            body: Data(
                #"{"anthropic_version":"vertex-2023-10-16","max_tokens":64,"messages":[{"role":"user","content":"five words in this prompt"}]}"#
                    .utf8))
        #expect(plain.status == 200, "\(plain.text)")
        #expect(try plain.json()["type"] as? String == "message")
        let streamed = try await harness.request(
            "POST", model + ":streamRawPredict", headers: Self.json,
            body: Data(
                #"{"anthropic_version":"vertex-2023-10-16","stream":true,"max_tokens":64,"messages":[{"role":"user","content":"five words in this prompt"}]}"#
                    .utf8))
        #expect(streamed.status == 200)
        #expect(streamed.text.contains("event: message_stop"))

        let logs = try await harness.waitForLogs(query: "&order=asc", count: 2)
        #expect(logs.count == 2)
        for (log, stream) in zip(logs, [false, true]) {
            #expect(log["provider"] as? String == "google-vertex-ai")
            #expect(log["model"] as? String == "tollgate-claude@20250101")
            #expect(log["stream"] as? Bool == stream)
            #expect(log["tokens_in"] as? Int64 == 5)
            #expect((log["tokens_out"] as? Int64 ?? 0) > 0)
            #expect(log["cost"] is NSNull, "no price row for the model: unpriced, not $0")
        }
    }

    @Test func incompleteTemplatedPathsAreRefusedNamingWhatIsMissing() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let cases = [
            ("/v1/default/default/azure-openai/my-resource", "the deployment"),
            ("/v1/default/default/azure-openai/my-resource/chat-prod?api-version=2024-10-21", "the API path"),
            ("/v1/default/default/google-vertex-ai/v1/projects/acme/locations/", "the region"),
            ("/v1/default/default/aws-bedrock/bedrock-runtime/", "the region"),
            ("/v1/default/default/aws-bedrock/bedrock-runtime/us-east-1/model/m", "the operation"),
        ]
        for (path, missing) in cases {
            let response = try await harness.request(
                "POST", path, headers: Self.json, body: Data(#"{"messages":[]}"#.utf8))
            #expect(response.status == 400, "\(path)")
            let error = try #require(try response.json()["error"] as? [String: Any])
            #expect(error["code"] as? String == "invalid_provider_path")
            #expect((error["message"] as? String)?.contains("missing \(missing)") == true, "\(error)")
        }
        try await Task.sleep(for: .milliseconds(150))
        #expect(try await harness.waitForLogs(count: 1, timeout: .zero).isEmpty, "nothing was forwarded or logged")
    }

    @Test func bedrockForwardsTheClientsSignatureToTheHostItSignedFor() async throws {
        let upstream = try await TestUpstream { _, responder in
            try await responder.respond(
                .ok, [("content-type", "application/json")],
                body: #"{"output":{"message":{"role":"assistant","content":[{"text":"hi"}]}},"stopReason":"end_turn"}"#)
        }
        defer { Task { await upstream.shutdown() } }
        let signature = [
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/us-east-1/bedrock/aws4_request, "
                    + "SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, "
                    + "Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
            ),
            ("X-Amz-Date", "20261203T131500Z"),
            ("X-Amz-Security-Token", "IQoJb3JpZ2luX2VjEXAMPLE//token=="),
            ("X-Amz-Content-Sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"),
        ]
        let modelPath = "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"
        try await TestGateway.with(upstreams: ["aws-bedrock": upstream.baseURL]) { gateway in
            let response = try await TestClient.with(port: gateway.port) { client in
                try await client.request(
                    .POST, TestGateway.path("aws-bedrock", "/bedrock-runtime/us-east-1" + modelPath),
                    headers: [("Content-Type", "application/json")] + signature,
                    body: #"{"messages":[{"role":"user","content":[{"text":"hello"}]}]}"#)
            }
            #expect(response.status == 200)
            let received = try #require(upstream.requests.first)
            #expect(received.uri == modelPath, "the mapped path, its escapes as the client signed them")
            #expect(received.headers["host"] == ["bedrock-runtime.us-east-1.amazonaws.com"])
            for (name, value) in signature {
                #expect(received.headers[name] == [value], "\(name) forwarded unchanged")
            }
            let exchange = try #require(await gateway.sink.wait(for: 1).first)
            let record = LogRecord(exchange: exchange, providers: gateway.proxy.providers)
            #expect(record.provider == "aws-bedrock")
            #expect(record.model == "anthropic.claude-3-haiku-20240307-v1:0")
            #expect(!record.stream)
        }
    }

    /// Workers AI through the gateway: the model path goes to `{base}/run/{model}` on the configured base URL, and
    /// the REST envelope's `result.usage` is logged with the path's model. Without a base URL it is refused.
    @Test func workersAIRunsTheModelOnTheConfiguredAccountAndLogsItsUsage() async throws {
        let envelope =
            #"{"result":{"response":"Cloudflare is a network.","usage":{"prompt_tokens":17,"completion_tokens":15,"total_tokens":32}},"success":true,"errors":[],"messages":[]}"#
        let upstream = try await TestUpstream { _, responder in
            try await responder.respond(.ok, [("content-type", "application/json")], body: envelope)
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["workers-ai": upstream.baseURL + "/client/v4/accounts/0123abcd/ai"]) {
            gateway in
            let response = try await TestClient.with(port: gateway.port) { client in
                try await client.request(
                    .POST, TestGateway.path("workers-ai", "/@cf/meta/llama-3.1-8b-instruct"),
                    headers: [("Content-Type", "application/json"), ("Authorization", "Bearer cf-api-token")],
                    body: #"{"prompt":"What is Cloudflare?"}"#)
            }
            #expect(response.status == 200)
            let received = try #require(upstream.requests.first)
            #expect(received.uri == "/client/v4/accounts/0123abcd/ai/run/@cf/meta/llama-3.1-8b-instruct")
            #expect(received.headers["host"] == ["api.cloudflare.com"])
            let exchange = try #require(await gateway.sink.wait(for: 1).first)
            let record = LogRecord(exchange: exchange, providers: gateway.proxy.providers)
            #expect(record.provider == "workers-ai")
            #expect(record.model == "@cf/meta/llama-3.1-8b-instruct")
            #expect(record.usage.tokensIn == 17 && record.usage.tokensOut == 15)
        }

        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let refused = try await harness.request(
            "POST", "/v1/default/default/workers-ai/@cf/meta/llama-3.1-8b-instruct", headers: Self.json,
            body: Data(#"{"prompt":"hi"}"#.utf8))
        #expect(refused.status == 400)
        #expect(refused.text.contains("--upstream workers-ai="), "\(refused.text)")
    }

    @Test func universalEndpointStepsReachTemplatedProvidersAndAMalformedStepIsRefused() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let failing = UniversalEndpointTests.openAIStep(fault: "status=503")
        let azure =
            #"{"provider":"azure-openai","endpoint":"my-resource/chat-prod/chat/completions?api-version=2024-10-21","#
            + #""headers":{"api-key":"azure-key","x-mock-model":"tollgate-azure-4o"},"#
            + #""query":{"messages":[{"role":"user","content":"hello there"}]}}"#
        let answered = try await UniversalEndpointTests.send(harness, [failing, azure])
        #expect(answered.status == 200, "\(answered.text)")
        #expect(answered.headers["cf-aig-step"] == "1")
        #expect(try answered.json()["model"] as? String == "tollgate-azure-4o")
        let logs = try await harness.waitForLogs(query: "&order=asc", count: 2)
        #expect(logs.map { $0["provider"] as? String } == ["openai", "azure-openai"])
        #expect(logs.last?["model"] as? String == "tollgate-azure-4o")

        let incomplete = #"{"provider":"azure-openai","endpoint":"my-resource","query":{"messages":[]}}"#
        let refused = try await UniversalEndpointTests.send(harness, [failing, incomplete])
        #expect(refused.status == 400)
        let error = try #require(try refused.json()["error"] as? [String: Any])
        #expect(error["code"] as? String == "invalid_provider_path")
        #expect((error["message"] as? String)?.hasPrefix("steps[1].endpoint: azure-openai path is missing") == true)
    }

    @Test func eachResourceAndRegionIsItsOwnEndpointAndAnOverrideKeepsTheProvidersHost() throws {
        let direct = try #require(UpstreamTarget(template: .azureOpenAI, baseURL: ""))
        let (east, eastPath) = try direct.resolved("/east-res/dep/chat/completions")
        let (west, _) = try direct.resolved("/west-res/dep/chat/completions")
        #expect(east.endpoint == .init(host: "east-res.openai.azure.com", port: 443, tls: true))
        #expect(east.endpoint != west.endpoint)
        #expect(east.hostHeader == "east-res.openai.azure.com")
        #expect(eastPath == "/openai/deployments/dep/chat/completions")

        // Workers AI is served only once its base URL (which names the Cloudflare account) is configured.
        let unconfigured = try #require(UpstreamTarget(template: .workersAI, baseURL: ""))
        #expect(throws: ProviderTemplate.Failure.self) { try unconfigured.resolved("/@cf/meta/llama-3.1-8b-instruct") }
        let workers = try #require(
            UpstreamTarget(
                template: .workersAI, baseURL: "https://api.cloudflare.com/client/v4/accounts/0123abcd/ai"))
        let (run, runPath) = try workers.resolved("/@cf/meta/llama-3.1-8b-instruct")
        #expect(run.hostHeader == "api.cloudflare.com" && run.endpoint.tls)
        #expect(runPath == "/client/v4/accounts/0123abcd/ai/run/@cf/meta/llama-3.1-8b-instruct")
        #expect(
            try workers.resolved("/v1/chat/completions").path == "/client/v4/accounts/0123abcd/ai/v1/chat/completions")
        let overridden = try #require(UpstreamTarget(template: .awsBedrock, baseURL: "http://127.0.0.1:9099/prefix"))
        let (target, path) = try overridden.resolved("/bedrock-runtime/us-west-2/model/m/invoke")
        #expect(target.endpoint == .init(host: "127.0.0.1", port: 9099, tls: false))
        #expect(target.hostHeader == "bedrock-runtime.us-west-2.amazonaws.com")
        #expect(path == "/prefix/model/m/invoke")
    }
}
