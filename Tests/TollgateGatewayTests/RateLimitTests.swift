import Foundation
import Testing

/// Rate limits through the gateway: exact under concurrency, refused with 429 and `Retry-After` before the
/// provider is called, per gateway or per metadata value.
@Suite(.serialized) struct RateLimitTests {
    static let body = Data(#"{"model":"gpt-5-mini","messages":[{"role":"user","content":"hi"}]}"#.utf8)

    static func send(_ harness: GatewayHarness, gateway: String, headers: [String: String] = [:]) async throws
        -> GatewayHarness.HTTPResult
    {
        try await harness.request(
            "POST", "/v1/default/\(gateway)/openai/chat/completions",
            headers: ["Content-Type": "application/json"].merging(headers) { $1 }, body: Self.body)
    }

    @Test func concurrentRequestsPassExactlyTheLimit() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let created = try await harness.api(
            "POST", "/api/v1/accounts/default/gateways",
            json: #"{"id":"limited","rate_limiting_limit":50,"rate_limiting_interval":60,"#
                + #""rate_limiting_technique":"sliding"}"#)
        #expect(created.status == 201, "\(created.text)")
        let before = harness.mock.requestCount
        let results = try await withThrowingTaskGroup(of: GatewayHarness.HTTPResult.self) { group in
            for _ in 0..<200 { group.addTask { try await Self.send(harness, gateway: "limited") } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.filter { $0.status == 200 }.count == 50)
        let refused = results.filter { $0.status == 429 }
        #expect(refused.count == 150)
        #expect(harness.mock.requestCount - before == 50, "a refused request never reaches the provider")
        let error = try #require(try refused.first?.json()["error"] as? [String: Any])
        #expect(error["code"] as? String == "rate_limited")
        let retryAfter = try #require(refused.first?.headers["retry-after"].flatMap { Int($0) })
        #expect((1...61).contains(retryAfter))
        // Another gateway of the account is not limited.
        #expect(try await Self.send(harness, gateway: "default").status == 200)
        // The refusals count in usage as rate limited; they are not logs.
        var totals: [String: Any] = [:]
        let deadline = ContinuousClock.now + .seconds(10)
        while totals["requests"] as? Int != 201 && ContinuousClock.now < deadline {
            let usage = try await harness.api("/api/v1/accounts/default/usage?interval=hour")
            totals = try usage.json()["totals"] as? [String: Any] ?? [:]
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(totals["requests"] as? Int == 201)
        #expect(totals["rate_limited"] as? Int == 150)
        let logs = try await harness.waitForLogs(query: "&gateway=limited", count: 50)
        #expect(logs.count == 50)
        try await harness.stop()
    }

    @Test func budgetsArePerMetadataValueWhenKeyed() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let created = try await harness.api(
            "POST", "/api/v1/accounts/default/gateways",
            json: #"{"id":"per-user","rate_limiting_limit":2,"rate_limiting_interval":3600,"#
                + #""rate_limiting_technique":"sliding","rate_limiting_key":"metadata.user"}"#)
        #expect(created.status == 201, "\(created.text)")
        func user(_ name: String) async throws -> Int {
            try await Self.send(harness, gateway: "per-user", headers: ["cf-aig-metadata": #"{"user":"\#(name)"}"#])
                .status
        }
        #expect(try await user("ann") == 200)
        #expect(try await user("ann") == 200)
        #expect(try await user("ann") == 429)
        #expect(try await user("bob") == 200)
        // Turning the limit off lets requests through at once.
        let off = try await harness.api(
            "PATCH", "/api/v1/accounts/default/gateways/per-user",
            json: #"{"rate_limiting_limit":null,"rate_limiting_interval":null}"#)
        #expect(off.status == 200)
        #expect(try await user("ann") == 200)
        try await harness.stop()
    }
}
