import Foundation
import Testing
import TollgateModel

/// The gateway and the mock provider over loopback: what a user of the SDKs and the logs API relies on.
@Suite(.serialized) struct GatewayEndToEndTests {
    let chatBody = #"{"model":"gpt-5-mini","messages":[{"role":"user","content":"Hello there, how are you today?"}]}"#

    @Test func forwardsChatCompletionAndLogsItWithTokens() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let direct = try await harness.request(
            "POST", "/v1/chat/completions", headers: ["Content-Type": "application/json"], body: Data(chatBody.utf8),
            base: "http://127.0.0.1:\(harness.mockPort)")
        let proxied = try await harness.request(
            "POST", "/v1/default/default/openai/chat/completions",
            headers: ["Content-Type": "application/json", "Authorization": "Bearer sk-test-secret-value"],
            body: Data(chatBody.utf8))
        #expect(proxied.status == 200)
        #expect(proxied.body == direct.body)
        let logID = try #require(proxied.headers["cf-aig-log-id"])
        #expect(LogID(logID) != nil)

        let logs = try await harness.waitForLogs(count: 1, timeout: .seconds(1))
        let log = try #require(logs.first)
        let usage = try #require(try direct.json()["usage"] as? [String: Any])
        #expect(log["id"] as? String == logID)
        #expect(log["provider"] as? String == "openai")
        #expect(log["model"] as? String == "gpt-5-mini")
        #expect(log["path"] as? String == "/chat/completions")
        #expect(log["status_code"] as? Int == 200)
        #expect(log["success"] as? Bool == true)
        #expect(log["stream"] as? Bool == false)
        #expect(log["tokens_in"] as? Int == usage["prompt_tokens"] as? Int)
        #expect(log["tokens_out"] as? Int == usage["completion_tokens"] as? Int)
        #expect(log["request_size"] as? Int == chatBody.utf8.count)
        #expect(log["response_size"] as? Int == direct.body.count)

        // The detail has headers without the key; the bodies come back exactly.
        let detail = try await harness.api("/api/v1/accounts/default/logs/\(logID)").json()
        let requestHeaders = try #require(detail["request_headers"] as? [String: String])
        #expect(!requestHeaders.values.contains { $0.contains("sk-test-secret-value") })
        let requestBody = try await harness.api("/api/v1/accounts/default/logs/\(logID)/request")
        #expect(requestBody.text == chatBody)
        #expect(requestBody.headers["content-type"]?.hasPrefix("application/json") == true)
        let responseBody = try await harness.api("/api/v1/accounts/default/logs/\(logID)/response")
        #expect(responseBody.body == direct.body)
        try await harness.stop()
    }

    @Test func streamWithUsageIsLoggedWithTokensAndWithoutUsageAsUnknown() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let withUsage =
            #"{"model":"gpt-5-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"count to three"}]}"#
        let withoutUsage =
            #"{"model":"gpt-5-mini","stream":true,"messages":[{"role":"user","content":"count to three"}]}"#
        for body in [withUsage, withoutUsage] {
            let response = try await harness.request(
                "POST", "/v1/default/default/openai/chat/completions", headers: ["Content-Type": "application/json"],
                body: Data(body.utf8))
            #expect(response.status == 200)
            #expect(response.headers["content-type"]?.hasPrefix("text/event-stream") == true)
            #expect(response.text.hasSuffix("data: [DONE]\n\n"))
        }
        // Without usage the gateway asks for it upstream (gateway setting `stream_usage`, on by default), so both
        // streams are priced; with the setting off such a stream's tokens are unknown, never 0.
        let off = try await harness.api(
            "PATCH", "/api/v1/accounts/default/gateways/default", json: #"{"stream_usage":false}"#)
        #expect(off.status == 200)
        let response = try await harness.request(
            "POST", "/v1/default/default/openai/chat/completions", headers: ["Content-Type": "application/json"],
            body: Data(withoutUsage.utf8))
        #expect(response.text.hasSuffix("data: [DONE]\n\n"))
        let logs = try await harness.waitForLogs(query: "&order=asc", count: 3)
        try #require(logs.count == 3)
        for log in logs { #expect(log["stream"] as? Bool == true) }
        #expect((logs[0]["tokens_in"] as? Int ?? 0) > 0)
        #expect((logs[0]["tokens_out"] as? Int ?? 0) > 0)
        #expect(logs[1]["tokens_in"] as? Int == logs[0]["tokens_in"] as? Int)
        #expect(logs[1]["tokens_out"] as? Int == logs[0]["tokens_out"] as? Int)
        #expect(logs[2]["tokens_in"] is NSNull)
        #expect(logs[2]["tokens_out"] is NSNull)
        try await harness.stop()
    }

    @Test func anthropicStreamTokensComeFromMessageStartAndDelta() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let body =
            #"{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"Say hi"}]}"#
        let response = try await harness.request(
            "POST", "/v1/default/default/anthropic/v1/messages",
            headers: [
                "Content-Type": "application/json", "x-api-key": "sk-ant-secret", "anthropic-version": "2023-06-01",
            ],
            body: Data(body.utf8))
        #expect(response.status == 200)
        #expect(response.text.contains("message_stop"))
        let log = try #require(try await harness.waitForLogs(count: 1).first)
        #expect(log["provider"] as? String == "anthropic")
        #expect(log["model"] as? String == "claude-sonnet-4-5")
        #expect((log["tokens_in"] as? Int ?? 0) > 0)
        #expect((log["tokens_out"] as? Int ?? 0) > 0)
        try await harness.stop()
    }

    @Test func streamCutOffMidwayIsRecordedAsFailure() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let body =
            #"{"model":"gpt-5-mini","stream":true,"messages":[{"role":"user","content":"tell me a long story"}]}"#
        _ = try? await harness.request(
            "POST", "/v1/default/default/openai/chat/completions",
            headers: ["Content-Type": "application/json", "x-mock-fault": "cut-stream-after=2"],
            body: Data(body.utf8))
        let log = try #require(try await harness.waitForLogs(count: 1).first)
        #expect(log["success"] as? Bool == false)
        #expect((log["error"] as? String)?.isEmpty == false)
        try await harness.stop()
    }

    @Test func rejectsBadRequestsBeforeForwarding() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let unknownAccount = try await harness.request(
            "POST", "/v1/nobody/default/openai/chat/completions", body: Data(chatBody.utf8))
        #expect(unknownAccount.status == 404)
        let unknownGateway = try await harness.request(
            "POST", "/v1/default/nope/openai/chat/completions", body: Data(chatBody.utf8))
        #expect(unknownGateway.status == 404)
        let unknownProvider = try await harness.request(
            "POST", "/v1/default/default/acme-ai/chat/completions", body: Data(chatBody.utf8))
        #expect(unknownProvider.status == 400)
        let message = try #require((try unknownProvider.json()["error"] as? [String: Any])?["message"] as? String)
        for slug in [
            "openai", "anthropic", "google-ai-studio", "groq", "mistral", "deepseek", "openrouter", "perplexity-ai",
            "grok",
        ] {
            #expect(message.contains(slug))
        }
        let badMetadata = try await harness.request(
            "POST", "/v1/default/default/openai/chat/completions",
            headers: ["cf-aig-metadata": #"{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}"#], body: Data(chatBody.utf8))
        #expect(badMetadata.status == 400)
        #expect(try badMetadata.json()["error"] is [String: Any])
        // Nothing of these reached the store.
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await harness.waitForLogs(count: 1, timeout: .zero).isEmpty)
        try await harness.stop()
    }

    @Test func bodyOver25MBIsRejectedWith413() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let big = Data(repeating: UInt8(ascii: "a"), count: 25_000_001)
        let response = try await harness.request(
            "POST", "/v1/default/default/openai/chat/completions", headers: ["Content-Type": "application/json"],
            body: big)
        #expect(response.status == 413)
        #expect(try response.json()["error"] is [String: Any])
        try await harness.stop()
    }

    @Test func unreachableUpstreamIs502AndLogged() async throws {
        // A port nobody listens on: bind one, note it, close it.
        let harness = try await GatewayHarness.start { configuration in
            configuration.providers = configuration.providers.overriding(
                "groq", baseURL: "http://127.0.0.1:1/openai/v1")!
        }
        defer { Task { try? await harness.stop() } }
        let response = try await harness.request(
            "POST", "/v1/default/default/groq/chat/completions", headers: ["Content-Type": "application/json"],
            body: Data(chatBody.utf8))
        #expect(response.status == 502)
        #expect(response.headers["cf-aig-log-id"] != nil)
        let log = try #require(try await harness.waitForLogs(count: 1).first)
        #expect(log["status_code"] as? Int == 502)
        #expect(log["success"] as? Bool == false)
        try await harness.stop()
    }

    @Test func metadataHeaderIsStoredAndFiltersWork() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        _ = try await harness.api("POST", "/api/v1/accounts/default/gateways", json: #"{"id":"prod"}"#)
        for gateway in ["default", "prod", "prod"] {
            let response = try await harness.request(
                "POST", "/v1/default/\(gateway)/openai/chat/completions",
                headers: [
                    "Content-Type": "application/json", "cf-aig-metadata": #"{"user":"u-1","attempt":2,"beta":true}"#,
                ],
                body: Data(chatBody.utf8))
            #expect(response.status == 200)
        }
        let prod = try await harness.waitForLogs(query: "&gateway=prod", count: 2)
        try #require(prod.count == 2)
        let metadata = try #require(prod.first?["metadata"] as? [String: Any])
        #expect(metadata["user"] as? String == "u-1")
        #expect(metadata["attempt"] as? Int == 2)
        #expect(metadata["beta"] as? Bool == true)
        let none = try await harness.waitForLogs(query: "&provider=anthropic", count: 1, timeout: .zero)
        #expect(none.isEmpty)
        try await harness.stop()
    }

    @Test func logsSurviveARestart() async throws {
        let data = makeTemporaryDirectory()
        var harness = try await GatewayHarness.start(dataDirectory: data)
        // Whichever gateway is running when the test ends, also when it ends early.
        defer {
            let running = harness
            Task { try? await running.stop() }
        }
        for _ in 0..<5 {
            _ = try await harness.request(
                "POST", "/v1/default/default/openai/chat/completions", headers: ["Content-Type": "application/json"],
                body: Data(chatBody.utf8))
        }
        let before = try await harness.waitForLogs(count: 5)
        try await harness.stop()
        harness = try await GatewayHarness.start(dataDirectory: data)
        let after = try await harness.waitForLogs(count: 5, timeout: .zero)
        #expect(after.map { $0["id"] as? String } == before.map { $0["id"] as? String })
        for log in after {
            let id = try #require(log["id"] as? String)
            let body = try await harness.api("/api/v1/accounts/default/logs/\(id)/request")
            #expect(body.text == chatBody)
        }
        try await harness.stop()
    }

    @Test func gracefulStopStoresEverythingStillQueued() async throws {
        let data = makeTemporaryDirectory()
        // A long commit interval: nothing is committed by the ticker before the stop.
        var harness = try await GatewayHarness.start(dataDirectory: data) { $0.ingest.commitInterval = .seconds(1) }
        // Whichever gateway is running when the test ends, also when it ends early.
        defer {
            let running = harness
            Task { try? await running.stop() }
        }
        var ids: [String] = []
        for _ in 0..<8 {
            let response = try await harness.request(
                "POST", "/v1/default/default/openai/chat/completions", headers: ["Content-Type": "application/json"],
                body: Data(chatBody.utf8))
            ids.append(try #require(response.headers["cf-aig-log-id"]))
        }
        try await harness.stop()
        harness = try await GatewayHarness.start(dataDirectory: data)
        let logs = try await harness.waitForLogs(count: 8, timeout: .zero)
        #expect(Set(logs.compactMap { $0["id"] as? String }) == Set(ids))
        try await harness.stop()
    }
}
