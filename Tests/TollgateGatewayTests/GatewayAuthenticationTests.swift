import Foundation
import Testing
import TollgateModel

/// Gateways with `authentication`: requests need `cf-aig-authorization: Bearer <token>` with a live token of the
/// gateway's account; anything else is a 401 that reaches no provider and leaves no log.
@Suite(.serialized) struct GatewayAuthenticationTests {
    static let chatBody = Data(#"{"model":"gpt-5-mini","messages":[{"role":"user","content":"hi"}]}"#.utf8)
    static let chatResponse = #"""
        {"id":"chatcmpl-1","object":"chat.completion","model":"gpt-5-mini","choices":[{"index":0,"message":{"role":"assistant","content":"hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}
        """#

    @Test func onlyALiveTokenOfTheGatewaysAccountPasses() async throws {
        let upstream = try await TestUpstream { _, responder in
            try await responder.respond(.ok, [("content-type", "application/json")], body: Self.chatResponse)
        }
        let harness = try await GatewayHarness.start { configuration in
            configuration.providers = configuration.providers.overriding("openai", baseURL: upstream.baseURL + "/v1")!
        }
        defer { Task { try? await harness.stop() } }
        for account in ["acme", "globex"] {
            #expect(try await harness.api("POST", "/api/v1/accounts", json: #"{"id":"\#(account)"}"#).status == 201)
        }
        let locked = try await harness.api(
            "POST", "/api/v1/accounts/acme/gateways", json: #"{"id":"locked","authentication":true}"#)
        #expect(locked.status == 201)
        #expect(try locked.json()["authentication"] as? Bool == true)
        let open = try await harness.api("POST", "/api/v1/accounts/acme/gateways", json: #"{"id":"open"}"#)
        #expect(try open.json()["authentication"] as? Bool == false)
        #expect(
            try await harness.api("/api/v1/accounts/acme/gateways/locked").json()["authentication"] as? Bool == true)
        let bad = try await harness.api(
            "PATCH", "/api/v1/accounts/acme/gateways/locked", json: #"{"authentication":"yes"}"#)
        #expect(bad.status == 400)

        let acme = try await AccountTokenTests.createToken(harness, account: "acme")
        let globex = try await AccountTokenTests.createToken(harness, account: "globex")
        let revoked = try await AccountTokenTests.createToken(harness, account: "acme")
        #expect(try await harness.api("DELETE", "/api/v1/accounts/acme/tokens/\(revoked.id)").status == 204)

        func send(_ gateway: String, _ authorization: String?) async throws -> GatewayHarness.HTTPResult {
            var headers = ["Content-Type": "application/json", "Authorization": "Bearer sk-provider-key"]
            if let authorization { headers["cf-aig-authorization"] = authorization }
            return try await harness.request(
                "POST", "/v1/acme/\(gateway)/openai/chat/completions", headers: headers, body: Self.chatBody)
        }

        let refused: [String?] = [
            nil, "", "Bearer", "Bearer ", "Bearer wrong", "Bearer \(globex.token)", "Bearer \(revoked.token)",
            acme.token, "Basic \(acme.token)", "Bearer \(acme.token)x", "Bearer \(GatewayHarness.adminToken)",
        ]
        for authorization in refused {
            let response = try await send("locked", authorization)
            #expect(response.status == 401, "\(authorization ?? "none")")
            #expect(response.headers["content-type"] == "application/json")
            let error = try #require(try response.json()["error"] as? [String: Any])
            #expect(error["code"] as? String == "unauthorized")
            #expect(response.headers["cf-aig-log-id"] == nil)
        }
        // Nothing reached the provider, nothing was queued, counted or stored.
        #expect(upstream.requests.isEmpty)
        let counters = try await harness.api("/api/v1/ingest").json()
        #expect(counters["accepted"] as? Int == 0)
        #expect(try await harness.waitForLogs(account: "acme", count: 1, timeout: .milliseconds(300)).isEmpty)

        // The account's token passes; the header goes no further than the gateway and is stored redacted.
        let passed = try await send("locked", "Bearer \(acme.token)")
        #expect(passed.status == 200, "\(passed.text)")
        #expect(upstream.requests.count == 1)
        let forwarded = try #require(upstream.requests.first)
        #expect(forwarded.headers["cf-aig-authorization"].isEmpty)
        #expect(forwarded.headers.first(name: "authorization") == "Bearer sk-provider-key")
        #expect(!forwarded.headers.contains { $0.value.contains(acme.token) })
        let logs = try await harness.waitForLogs(account: "acme", count: 1)
        let id = try #require(logs.first?["id"] as? String)
        let detail = try await harness.api("/api/v1/accounts/acme/logs/\(id)")
        #expect(!detail.text.contains(acme.token))
        let stored = try #require(try detail.json()["request_headers"] as? [String: String])
        #expect(stored["cf-aig-authorization"] == nil || stored["cf-aig-authorization"] == "REDACTED")

        // A gateway without authentication needs no token; turning it on or off applies to the next request.
        #expect(try await send("open", nil).status == 200)
        let off = try await harness.api(
            "PATCH", "/api/v1/accounts/acme/gateways/locked", json: #"{"authentication":false}"#)
        #expect(try off.json()["authentication"] as? Bool == false)
        #expect(try await send("locked", nil).status == 200)
        _ = try await harness.api("PATCH", "/api/v1/accounts/acme/gateways/locked", json: #"{"authentication":true}"#)
        #expect(try await send("locked", nil).status == 401)
        #expect(try await send("locked", "bearer \(acme.token)").status == 200)

        // Revoking the token refuses the very next request.
        #expect(try await harness.api("DELETE", "/api/v1/accounts/acme/tokens/\(acme.id)").status == 204)
        let before = upstream.requests.count
        #expect(try await send("locked", "Bearer \(acme.token)").status == 401)
        #expect(upstream.requests.count == before)

        try await harness.stop()
        await upstream.shutdown()
    }

    @Test func authenticationIsKeptAcrossRestarts() async throws {
        let data = makeTemporaryDirectory()
        var harness = try await GatewayHarness.start(dataDirectory: data)
        // Whichever gateway is running when the test ends, also when it ends early.
        defer {
            let running = harness
            Task { try? await running.stop() }
        }
        _ = try await harness.api(
            "POST", "/api/v1/accounts/default/gateways", json: #"{"id":"locked","authentication":true}"#)
        let token = try await AccountTokenTests.createToken(harness, account: "default")
        try await harness.stop()
        harness = try await GatewayHarness.start(dataDirectory: data)
        func send(_ authorization: String?) async throws -> Int {
            var headers = ["Content-Type": "application/json"]
            if let authorization { headers["cf-aig-authorization"] = authorization }
            return try await harness.request(
                "POST", "/v1/default/locked/openai/chat/completions", headers: headers, body: Self.chatBody
            ).status
        }
        #expect(try await send(nil) == 401)
        #expect(try await send("Bearer \(token.token)") == 200)
        try await harness.stop()
    }
}
