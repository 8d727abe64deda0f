import Foundation
import Testing

/// Cloudflare's `filters` array on the gateway logs, deleting logs by filters, and deleting a gateway (through
/// `/client/v4` and `/api/v1`).
@Suite(.serialized) struct CloudflareDeleteTests {
    static let logs = "/client/v4/accounts/default/ai-gateway/gateways/default/logs"

    func proxy(_ harness: GatewayHarness, gateway: String = "default", models: [String]) async throws {
        for model in models {
            let proxied = try await harness.request(
                "POST", "/v1/default/\(gateway)/openai/chat/completions",
                headers: ["Content-Type": "application/json"],
                body: Data(#"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]}"#.utf8))
            #expect(proxied.status == 200)
        }
    }

    func models(_ harness: GatewayHarness, _ query: String) async throws -> [String] {
        let result = try await harness.api(Self.logs + query)
        #expect(result.status == 200, "\(query): \(result.text)")
        return (try result.json()["result"] as? [[String: Any]] ?? []).compactMap { $0["model"] as? String }
    }

    func usageRequests(_ harness: GatewayHarness, _ expected: Int) async throws -> Int? {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let usage = try await harness.api("/api/v1/accounts/default/usage?interval=hour").json()
            let requests = (usage["totals"] as? [String: Any])?["requests"] as? Int
            if requests == expected || ContinuousClock.now >= deadline { return requests }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test func filtersArrayNarrowsTheListingInBothForms() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        try await proxy(harness, models: ["gpt-5-mini", "gpt-5-mini", "gpt-5", "gpt-5"])
        _ = try await harness.waitForLogs(count: 4)

        // The SDK's form: parts repeated in order.
        let dots = "?filters.key=model&filters.operator=eq&filters.value=gpt-5"
        #expect(try await models(harness, dots) == ["gpt-5", "gpt-5"])
        // The bracket form, two filters.
        let brackets =
            "?filters%5B0%5D%5Bkey%5D=model&filters%5B0%5D%5Boperator%5D=eq&filters%5B0%5D%5Bvalue%5D%5B0%5D=gpt-5-mini"
            + "&filters%5B1%5D%5Bkey%5D=success&filters%5B1%5D%5Boperator%5D=eq&filters%5B1%5D%5Bvalue%5D%5B0%5D=true"
        #expect(try await models(harness, brackets) == ["gpt-5-mini", "gpt-5-mini"])
        // A window on created_at: everything is after the epoch and before the far future, nothing after it.
        let window =
            "?filters.key=created_at&filters.operator=gt&filters.value=2000-01-01T00:00:00Z"
            + "&filters.key=created_at&filters.operator=lt&filters.value=2100-01-01T00:00:00Z"
        #expect(try await models(harness, window).count == 4)
        let future = "?filters.key=created_at&filters.operator=gt&filters.value=2100-01-01T00:00:00Z"
        #expect(try await models(harness, future).isEmpty)

        // A filter that contradicts a flat parameter, or that has two values, is refused by name.
        let contradiction = try await harness.api(
            Self.logs + "?model=gpt-5"
                + dots.replacingOccurrences(of: "?", with: "&")
                .replacingOccurrences(of: "=gpt-5", with: "=gpt-5-mini"))
        #expect(contradiction.status == 400)
        #expect(contradiction.text.contains("model is given two different values"), "\(contradiction.text)")
        let twoValues = try await harness.api(Self.logs + dots + "&filters.value=gpt-5-mini")
        #expect(twoValues.status == 400)
        #expect(twoValues.text.contains("takes exactly one value"), "\(twoValues.text)")
        try await harness.stop()
    }

    @Test func deletingByFiltersTakesOnlyWhatMatchesAndKeepsUsage() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        try await proxy(harness, models: ["gpt-5-mini", "gpt-5", "gpt-5-mini", "gpt-5", "gpt-5-mini"])
        let before = try await harness.waitForLogs(count: 5)
        #expect(try await usageRequests(harness, 5) == 5)

        // Refused filters delete nothing.
        for refused in [
            "?filters.key=cached&filters.operator=eq&filters.value=false",  // listing only
            "?filters.key=model&filters.operator=contains&filters.value=gpt",
            "?filters.key=model&filters.operator=eq",
            "?filters.kye=model&filters.operator=eq&filters.value=gpt-5",
            "?limit=0",
        ] {
            let response = try await harness.api("DELETE", Self.logs + refused)
            #expect(response.status == 400, "\(refused): \(response.text)")
        }
        #expect(try await harness.waitForLogs(count: 5).count == 5)

        let deleted = try await harness.api(
            "DELETE", Self.logs + "?filters.key=model&filters.operator=eq&filters.value=gpt-5")
        #expect(deleted.status == 200, "\(deleted.text)")
        let result = try #require(try deleted.json()["result"] as? [String: Any])
        #expect(result["success"] as? Bool == true)
        #expect(result["deleted"] as? Int == 2)
        #expect(try await models(harness, "").sorted() == ["gpt-5-mini", "gpt-5-mini", "gpt-5-mini"])

        // `limit` with the oldest first (the default): the oldest remaining mini log goes.
        let oldestFirst = before.reversed().filter { $0["model"] as? String == "gpt-5-mini" }
            .compactMap { $0["id"] as? String }
        let limited = try await harness.api("DELETE", Self.logs + "?limit=1")
        #expect((try limited.json()["result"] as? [String: Any])?["deleted"] as? Int == 1)
        let left = try await harness.waitForLogs(count: 2).compactMap { $0["id"] as? String }
        #expect(Set(left) == Set(oldestFirst.dropFirst()))

        // Deleted logs leave the index, not the accounting.
        #expect(try await usageRequests(harness, 5) == 5)
        try await harness.stop()
    }

    @Test func deletingAGatewayTakesItsLogsAndStopsTheProxyForIt() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        #expect(
            try await harness.api("POST", "/api/v1/accounts/default/gateways", json: #"{"id":"prod"}"#).status == 201)
        try await proxy(harness, gateway: "prod", models: ["gpt-5", "gpt-5"])
        try await proxy(harness, models: ["gpt-5-mini"])
        _ = try await harness.waitForLogs(count: 3)
        #expect(try await usageRequests(harness, 3) == 3)

        let deleted = try await harness.api("DELETE", "/api/v1/accounts/default/gateways/prod")
        #expect(deleted.status == 200, "\(deleted.text)")
        #expect(try deleted.json()["logs_deleted"] as? Int == 2)
        #expect(try await harness.api("/api/v1/accounts/default/gateways/prod").status == 404)
        #expect(try await harness.api("DELETE", "/api/v1/accounts/default/gateways/prod").status == 404)
        let proxied = try await harness.request(
            "POST", "/v1/default/prod/openai/chat/completions", headers: ["Content-Type": "application/json"],
            body: Data(#"{"model":"gpt-5","messages":[{"role":"user","content":"hi"}]}"#.utf8))
        #expect(proxied.status == 404)
        // The other gateway's log stays; the account's usage keeps every request.
        let left = try await harness.waitForLogs(count: 1)
        #expect(left.count == 1 && left.first?["gateway"] as? String == "default")
        #expect(try await usageRequests(harness, 3) == 3)

        // Through /client/v4: the gateway as it was, then gone.
        #expect(
            try await harness.api("POST", "/api/v1/accounts/default/gateways", json: #"{"id":"stage"}"#).status == 201)
        let cf = try await harness.api("DELETE", "/client/v4/accounts/default/ai-gateway/gateways/stage")
        #expect(cf.status == 200, "\(cf.text)")
        #expect((try cf.json()["result"] as? [String: Any])?["id"] as? String == "stage")
        #expect(try await harness.api("/client/v4/accounts/default/ai-gateway/gateways/stage").status == 404)
        try await harness.stop()
    }
}
