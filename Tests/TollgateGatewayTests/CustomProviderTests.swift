import Foundation
import Testing
import TollgateModel

@testable import TollgateGateway

/// Custom providers: an account adds a provider at run time (`/api/v1/accounts/{account}/custom-providers`) and
/// proxies through it at `/v1/{account}/{gateway}/custom-{slug}/…`, end to end against the mock provider.
@Suite(.serialized) struct CustomProviderTests {
    static let json = ["Content-Type": "application/json"]
    static let chat = Data(#"{"model":"house-model","messages":[{"role":"user","content":"three words here"}]}"#.utf8)

    func create(
        _ harness: GatewayHarness, account: String = "default", slug: String = "house", api: String = "openai",
        baseURL: String? = nil
    ) async throws -> GatewayHarness.HTTPResult {
        let url = baseURL ?? "http://127.0.0.1:\(harness.mockPort)/v1"
        return try await harness.api(
            "POST", "/api/v1/accounts/\(account)/custom-providers",
            json: #"{"slug":"\#(slug)","base_url":"\#(url)","api":"\#(api)"}"#)
    }

    func errorCode(_ result: GatewayHarness.HTTPResult) -> String? {
        ((try? result.json())?["error"] as? [String: Any])?["code"] as? String
    }

    @Test func chatCompletionThroughACustomProviderIsLoggedWithItsTokens() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let created = try await create(harness)
        #expect(created.status == 201, "\(created.text)")
        let body = try created.json()
        #expect(body["slug"] as? String == "house")
        #expect(body["provider"] as? String == "custom-house")
        #expect(body["api"] as? String == "openai")
        #expect(body["base_url"] as? String == "http://127.0.0.1:\(harness.mockPort)/v1")
        // Priced like any provider, by its `custom-{slug}` name.
        let price = try await harness.api(
            "POST", "/api/v1/prices",
            json:
                #"{"provider":"custom-house","model":"house-model","effective_from":"2020-01-01","input":2,"output":8,"source":"test"}"#
        )
        #expect(price.status == 201, "\(price.text)")

        let plain = try await harness.request(
            "POST", "/v1/default/default/custom-house/chat/completions", headers: Self.json, body: Self.chat)
        #expect(plain.status == 200, "\(plain.text)")
        #expect(try plain.json()["usage"] != nil)
        let streamBody = Data(
            #"{"model":"house-model","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"a streamed prompt"}]}"#
                .utf8)
        let streamed = try await harness.request(
            "POST", "/v1/default/default/custom-house/chat/completions", headers: Self.json, body: streamBody)
        #expect(streamed.status == 200)
        #expect(streamed.text.contains("data: [DONE]"))

        let logs = try await harness.waitForLogs(query: "&order=asc", count: 2)
        #expect(logs.count == 2)
        for (log, stream) in zip(logs, [false, true]) {
            #expect(log["provider"] as? String == "custom-house")
            #expect(log["model"] as? String == "house-model")
            #expect(log["stream"] as? Bool == stream)
            #expect(log["path"] as? String == "/chat/completions")
            #expect(log["status_code"] as? Int64 == 200)
            #expect(log["tokens_in"] as? Int64 == 3)
            let tokensOut = log["tokens_out"] as? Int64 ?? 0
            #expect(tokensOut > 0)
            #expect(CostAccountingTests.picodollars(log["cost"]) == 3 * 2_000_000 + tokensOut * 8_000_000)
        }
        // The listing of logs filters on it like any provider.
        let filtered = try await harness.api("/api/v1/accounts/default/logs?provider=custom-house")
        #expect((try filtered.json()["logs"] as? [[String: Any]])?.count == 2)
    }

    @Test func anotherAccountNeitherSeesNorUsesIt() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        #expect(try await create(harness).status == 201)
        #expect(try await harness.api("POST", "/api/v1/accounts", json: #"{"id":"other","tier":"paid"}"#).status == 201)
        #expect(try await harness.api("POST", "/api/v1/accounts/other/gateways", json: #"{"id":"gw"}"#).status == 201)

        let proxied = try await harness.request(
            "POST", "/v1/other/gw/custom-house/chat/completions", headers: Self.json, body: Self.chat)
        #expect(proxied.status == 400)
        #expect(errorCode(proxied) == "unknown_provider")
        let listed = try await harness.api("/api/v1/accounts/other/custom-providers")
        #expect(listed.status == 200)
        #expect((try listed.json()["custom_providers"] as? [Any])?.isEmpty == true)
        #expect(try await harness.api("/api/v1/accounts/other/custom-providers/house").status == 404)
        #expect(
            try await harness.api("PATCH", "/api/v1/accounts/other/custom-providers/house", json: "{}").status == 404)
        #expect(try await harness.api("DELETE", "/api/v1/accounts/other/custom-providers/house").status == 404)

        // The same slug in the other account is its own provider.
        let own = try await create(harness, account: "other", api: "none")
        #expect(own.status == 201, "\(own.text)")
        let mine = try await harness.api("/api/v1/accounts/default/custom-providers/house")
        #expect(try mine.json()["api"] as? String == "openai")

        // An account token reaches neither account's custom providers: they are the admin's, like gateways.
        let token = try await harness.api("POST", "/api/v1/accounts/other/tokens")
        let secret = try #require(try token.json()["token"] as? String)
        let asAccount = try await harness.request(
            "GET", "/api/v1/accounts/other/custom-providers", headers: ["Authorization": "Bearer \(secret)"])
        #expect(asAccount.status == 403)
    }

    @Test func badInputIsRefusedNamingTheField() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let path = "/api/v1/accounts/default/custom-providers"
        let cases: [(String, String)] = [
            (#"{"slug":"Not Valid","base_url":"https://llm.example.com/v1","api":"openai"}"#, "slug"),
            (#"{"slug":"-dash","base_url":"https://llm.example.com/v1","api":"openai"}"#, "slug"),
            (#"{"base_url":"https://llm.example.com/v1","api":"openai"}"#, "slug"),
            (#"{"slug":"ok","base_url":"http://llm.example.com/v1","api":"openai"}"#, "base_url"),
            (#"{"slug":"ok","base_url":"http://10.0.0.1:8080","api":"openai"}"#, "base_url"),
            (#"{"slug":"ok","base_url":"ftp://llm.example.com","api":"openai"}"#, "base_url"),
            (#"{"slug":"ok","base_url":"llm.example.com","api":"openai"}"#, "base_url"),
            (#"{"slug":"ok","base_url":"https://user:pw@llm.example.com","api":"openai"}"#, "base_url"),
            (#"{"slug":"ok","base_url":"https://llm.example.com/v1?key=1","api":"openai"}"#, "base_url"),
            (#"{"slug":"ok","api":"openai"}"#, "base_url"),
            (#"{"slug":"ok","base_url":"https://llm.example.com","api":"grpc"}"#, "api"),
            (#"{"slug":"ok","base_url":"https://llm.example.com"}"#, "api"),
            (#"{"slug":"ok","base_url":"https://llm.example.com","api":"openai","extra":1}"#, "extra"),
        ]
        for (body, field) in cases {
            let response = try await harness.api("POST", path, json: body)
            #expect(response.status == 400, "\(body): \(response.text)")
            let error = try #require(try response.json()["error"] as? [String: Any], "\(body)")
            #expect((error["message"] as? String ?? "").contains(field), "\(body): \(error)")
        }
        // Loopback over plain HTTP is allowed, in each spelling; https anywhere.
        for (slug, url) in [
            ("v4", "http://127.0.0.1:9/v1"), ("v6", "http://[::1]:9"), ("name", "http://localhost:9/"),
            ("remote", "https://llm.example.com/v1/"),
        ] {
            let made = try await create(harness, slug: slug, baseURL: url)
            #expect(made.status == 201, "\(url): \(made.text)")
        }
        let trimmed = try await harness.api("\(path)/remote")
        #expect(try trimmed.json()["base_url"] as? String == "https://llm.example.com/v1")
        let again = try await create(harness, slug: "v4", baseURL: "https://llm.example.com")
        #expect(again.status == 409)
        let patched = try await harness.api("PATCH", "\(path)/v4", json: #"{"base_url":"http://example.com"}"#)
        #expect(patched.status == 400)
        #expect(patched.text.contains("base_url"))
        let unknownAccount = try await create(harness, account: "nobody")
        #expect(unknownAccount.status == 404)
        let listed = try await harness.api(path)
        let slugs = (try listed.json()["custom_providers"] as? [[String: Any]])?.compactMap { $0["slug"] as? String }
        #expect(slugs == ["name", "remote", "v4", "v6"])
    }

    @Test func updateTakesEffectAndDeleteMakesItUnknown() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let path = "/api/v1/accounts/default/custom-providers/house"
        let proxyPath = "/v1/default/default/custom-house/chat/completions"
        // Pointed at a port nothing listens on first, then moved to the mock.
        #expect(try await create(harness, baseURL: "http://127.0.0.1:9/v1").status == 201)
        let unreachable = try await harness.request("POST", proxyPath, headers: Self.json, body: Self.chat)
        #expect(unreachable.status == 502)
        let moved = try await harness.api(
            "PATCH", path, json: #"{"base_url":"http://127.0.0.1:\#(harness.mockPort)/v1","api":"none"}"#)
        #expect(moved.status == 200, "\(moved.text)")
        #expect(try moved.json()["api"] as? String == "none")
        let answered = try await harness.request("POST", proxyPath, headers: Self.json, body: Self.chat)
        #expect(answered.status == 200, "\(answered.text)")
        // `none`: logged and counted, no usage read.
        let logs = try await harness.waitForLogs(query: "&status_code=200", count: 1)
        let log = try #require(logs.first)
        #expect(log["provider"] as? String == "custom-house")
        #expect(log["tokens_in"] == nil || log["tokens_in"] is NSNull)
        #expect(log["tokens_out"] == nil || log["tokens_out"] is NSNull)
        var usage = ""
        let deadline = ContinuousClock.now + .seconds(5)
        while !usage.contains("custom-house") && ContinuousClock.now < deadline {
            usage = try await harness.api("/api/v1/accounts/default/usage?group_by=provider").text
            if !usage.contains("custom-house") { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(usage.contains("custom-house"), "\(usage)")

        let deleted = try await harness.api("DELETE", path)
        #expect(deleted.status == 204)
        let gone = try await harness.request("POST", proxyPath, headers: Self.json, body: Self.chat)
        #expect(gone.status == 400)
        #expect(errorCode(gone) == "unknown_provider")
        #expect(try await harness.api(path).status == 404)
        #expect(try await harness.api("DELETE", path).status == 404)
    }

    @Test func customProvidersAreServedAgainAfterARestart() async throws {
        let data = makeTemporaryDirectory()
        let first = try await GatewayHarness.start(dataDirectory: data)
        #expect(try await create(first, baseURL: "http://127.0.0.1:\(first.mockPort)/v1").status == 201)
        try await first.stop()
        let second = try await GatewayHarness.start(dataDirectory: data)
        defer { Task { try? await second.stop() } }
        let listed = try await second.api("/api/v1/accounts/default/custom-providers/house")
        #expect(listed.status == 200)
        // The new mock listens elsewhere: pointing the stored provider at it is all it takes.
        let moved = try await second.api(
            "PATCH", "/api/v1/accounts/default/custom-providers/house",
            json: #"{"base_url":"http://127.0.0.1:\#(second.mockPort)/v1"}"#)
        #expect(moved.status == 200)
        let answered = try await second.request(
            "POST", "/v1/default/default/custom-house/chat/completions", headers: Self.json, body: Self.chat)
        #expect(answered.status == 200, "\(answered.text)")
    }

    @Test func geminiAndAnthropicShapesAreReadAndTheUniversalEndpointTakesCustomSteps() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let vertex = "http://127.0.0.1:\(harness.mockPort)/v1/projects/acme/locations/us-central1/publishers/google"
        #expect(try await create(harness, slug: "gem", api: "gemini", baseURL: vertex).status == 201)
        #expect(
            try await create(harness, slug: "claude", api: "anthropic", baseURL: "http://127.0.0.1:\(harness.mockPort)")
                .status == 201)
        let gemini = try await harness.request(
            "POST", "/v1/default/default/custom-gem/models/house-gemini:generateContent", headers: Self.json,
            body: Data(#"{"contents":[{"role":"user","parts":[{"text":"four words of prompt"}]}]}"#.utf8))
        #expect(gemini.status == 200, "\(gemini.text)")
        let steps = """
            [{"provider":"custom-claude","endpoint":"v1/messages","headers":{"x-api-key":"k","anthropic-version":"2023-06-01"},\
            "query":{"model":"house-claude","max_tokens":64,"messages":[{"role":"user","content":"hello there"}]}}]
            """
        let universal = try await harness.request(
            "POST", "/v1/default/default", headers: Self.json, body: Data(steps.utf8))
        #expect(universal.status == 200, "\(universal.text)")

        let logs = try await harness.waitForLogs(query: "&order=asc", count: 2)
        #expect(logs.count == 2)
        let byProvider = Dictionary(logs.map { ($0["provider"] as? String ?? "", $0) }) { a, _ in a }
        let gem = try #require(byProvider["custom-gem"])
        #expect(gem["model"] as? String == "house-gemini")
        #expect(gem["tokens_in"] as? Int64 == 4)
        #expect((gem["tokens_out"] as? Int64 ?? 0) > 0)
        let claude = try #require(byProvider["custom-claude"])
        #expect(claude["model"] as? String == "house-claude")
        #expect(claude["tokens_in"] as? Int64 == 2)
        #expect((claude["tokens_out"] as? Int64 ?? 0) > 0)
        #expect(claude["step"] as? Int64 == 0)

        // Another account's step naming it is refused like any unknown provider.
        #expect(try await harness.api("POST", "/api/v1/accounts", json: #"{"id":"other","tier":"paid"}"#).status == 201)
        #expect(try await harness.api("POST", "/api/v1/accounts/other/gateways", json: #"{"id":"gw"}"#).status == 201)
        let refused = try await harness.request("POST", "/v1/other/gw", headers: Self.json, body: Data(steps.utf8))
        #expect(refused.status == 400)
        #expect(refused.text.contains("steps[0].provider: unknown provider"))
    }
}
