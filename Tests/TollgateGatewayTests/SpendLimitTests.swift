import Foundation
import Testing

/// Spend limits through the gateway: costs count as records are made, a rule at its limit refuses with 429 and
/// `Retry-After` before the provider is called, partitions keep one budget per value, and the overshoot is at most
/// the requests in flight when the limit was reached.
@Suite(.serialized) struct SpendLimitTests {
    static let body = Data(#"{"model":"gpt-5-mini","messages":[{"role":"user","content":"hi"}]}"#.utf8)
    /// Every request costs exactly $0.0004.
    static let cost = #"{"total_cost":0.0004}"#

    static func send(_ harness: GatewayHarness, gateway: String, team: String? = nil, model: String = "gpt-5-mini")
        async throws -> GatewayHarness.HTTPResult
    {
        var headers = ["Content-Type": "application/json", "cf-aig-custom-cost": cost]
        if let team { headers["cf-aig-metadata"] = #"{"team":"\#(team)"}"# }
        let body = Data(#"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]}"#.utf8)
        return try await harness.request(
            "POST", "/v1/default/\(gateway)/openai/chat/completions", headers: headers, body: body)
    }

    @Test func aRuleScopedByModelRefusesOnlyTheModelsItNames() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        try await Self.create(
            harness, "models",
            rules: #"[{"id":"mini","limit":"0.0008","window":3600,"model":{"mode":"filter","values":["gpt-5-mini"]}}]"#)
        for _ in 0..<2 { #expect(try await Self.send(harness, gateway: "models").status == 200) }
        _ = try await Self.spend(harness, gateway: "models", atLeast: Decimal(string: "0.0008")!)
        let before = harness.mock.requestCount
        let refused = try await Self.send(harness, gateway: "models")
        #expect(refused.status == 429)
        #expect((try refused.json()["error"] as? [String: Any])?["code"] as? String == "spend_limit_exceeded")
        #expect(harness.mock.requestCount == before)
        // Another model is outside the rule: it passes, and its cost is not the rule's.
        #expect(try await Self.send(harness, gateway: "models", model: "gpt-5-nano").status == 200)
        #expect(harness.mock.requestCount == before + 1)
        let rules = try await Self.spend(harness, gateway: "models", atLeast: Decimal(string: "0.0008")!)
        #expect(Self.amount(rules.first?["spent"]) == Decimal(string: "0.0008"))
        try await harness.stop()
    }

    /// A JSON number read back exactly (the API writes money as exact decimals).
    static func amount(_ value: Any?) -> Decimal? {
        (value as? NSNumber).flatMap { Decimal(string: $0.stringValue) }
    }

    /// The gateway's spend rules as `GET …/spend` shows them, once `spent` of the first reaches `atLeast` (bounded).
    static func spend(_ harness: GatewayHarness, gateway: String, atLeast: Decimal) async throws -> [[String: Any]] {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let shown = try await harness.api("/api/v1/accounts/default/gateways/\(gateway)/spend").json()
            let rules = shown["rules"] as? [[String: Any]] ?? []
            let spent = rules.compactMap { amount($0["spent"]) }.reduce(0, +)
            if spent >= atLeast || ContinuousClock.now >= deadline { return rules }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    static func create(_ harness: GatewayHarness, _ id: String, rules: String) async throws {
        let created = try await harness.api(
            "POST", "/api/v1/accounts/default/gateways", json: #"{"id":"\#(id)","spend_limits":{"rules":\#(rules)}}"#)
        #expect(created.status == 201, "\(created.text)")
    }

    @Test func aRuleAtItsLimitRefusesBeforeTheProvider() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        try await Self.create(harness, "capped", rules: #"[{"id":"yearly","limit":"0.001","window":31622400}]"#)
        for _ in 0..<3 { #expect(try await Self.send(harness, gateway: "capped").status == 200) }
        let rules = try await Self.spend(harness, gateway: "capped", atLeast: Decimal(string: "0.0012")!)
        #expect(Self.amount(rules.first?["spent"]) == Decimal(string: "0.0012"))
        #expect(Self.amount(rules.first?["remaining"]) == 0)
        let before = harness.mock.requestCount
        let refused = try await Self.send(harness, gateway: "capped")
        #expect(refused.status == 429)
        #expect((try refused.json()["error"] as? [String: Any])?["code"] as? String == "spend_limit_exceeded")
        #expect(refused.headers["retry-after"].flatMap { Int($0) }.map { (1...31_622_400).contains($0) } == true)
        #expect(harness.mock.requestCount == before, "a refused request never reaches the provider")
        // Raising the limit lets requests through again, with what was spent kept.
        let raised = try await harness.api(
            "PATCH", "/api/v1/accounts/default/gateways/capped",
            json: #"{"spend_limits":{"rules":[{"id":"yearly","limit":"0.002","window":31622400}]}}"#)
        #expect(raised.status == 200)
        #expect(try await Self.send(harness, gateway: "capped").status == 200)
        try await harness.stop()
    }

    @Test func partitionsKeepOneBudgetPerValue() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        try await Self.create(
            harness, "teams",
            rules: #"[{"id":"per-team","limit":"0.0005","window":3600,"technique":"sliding","#
                + #""metadata":{"team":{"mode":"partition"}}}]"#)
        #expect(try await Self.send(harness, gateway: "teams", team: "a").status == 200)
        _ = try await Self.spend(harness, gateway: "teams", atLeast: Decimal(string: "0.0004")!)
        #expect(try await Self.send(harness, gateway: "teams", team: "a").status == 200)
        _ = try await Self.spend(harness, gateway: "teams", atLeast: Decimal(string: "0.0008")!)
        #expect(try await Self.send(harness, gateway: "teams", team: "a").status == 429)
        #expect(try await Self.send(harness, gateway: "teams", team: "b").status == 200)
        let rules = try await Self.spend(harness, gateway: "teams", atLeast: Decimal(string: "0.0012")!)
        let teamA = try #require(rules.first { ($0["partition"] as? [String: String])?["metadata.team"] == "a" })
        #expect(Self.amount(teamA["spent"]) == Decimal(string: "0.0008"))
        #expect(rules.count == 2)
        try await harness.stop()
    }

    /// A restart (here a graceful one; the costs come from the stored rollups and logs either way) brings the spend
    /// back: a budget used up before stays used up.
    @Test func spendIsRebuiltFromStoredCostsAtStart() async throws {
        let data = makeTemporaryDirectory()
        var harness = try await GatewayHarness.start(dataDirectory: data)
        // Whichever gateway is running when the test ends, also when it ends early.
        defer {
            let running = harness
            Task { try? await running.stop() }
        }
        try await Self.create(harness, "capped", rules: #"[{"id":"yearly","limit":"0.001","window":31622400}]"#)
        try await Self.create(
            harness, "teams",
            rules: #"[{"id":"per-team","limit":"0.0005","window":86400,"technique":"sliding","#
                + #""metadata":{"team":{"mode":"partition"}}}]"#)
        for _ in 0..<3 { #expect(try await Self.send(harness, gateway: "capped").status == 200) }
        for _ in 0..<2 { #expect(try await Self.send(harness, gateway: "teams", team: "a").status == 200) }
        _ = try await harness.waitForLogs(count: 5)
        try await harness.stop()

        harness = try await GatewayHarness.start(dataDirectory: data)
        let capped = try await Self.spend(harness, gateway: "capped", atLeast: 0)
        #expect(Self.amount(capped.first?["spent"]) == Decimal(string: "0.0012"))
        #expect(try await Self.send(harness, gateway: "capped").status == 429)
        let teams = try await Self.spend(harness, gateway: "teams", atLeast: 0)
        #expect(Self.amount(teams.first?["spent"]) == Decimal(string: "0.0008"))
        #expect(try await Self.send(harness, gateway: "teams", team: "a").status == 429)
        #expect(try await Self.send(harness, gateway: "teams", team: "b").status == 200)
        try await harness.stop()
    }

    /// N requests admitted together while there is room: spend passes the limit by at most their cost.
    @Test func overshootIsAtMostTheRequestsInFlight() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        try await Self.create(
            harness, "edge", rules: #"[{"id":"cap","limit":"0.001","window":3600,"technique":"sliding"}]"#)
        let n = 10
        let results = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<n { group.addTask { try await Self.send(harness, gateway: "edge").status } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let passed = results.filter { $0 == 200 }.count
        #expect(passed >= 3, "at least the requests that fit under the limit pass")
        let rules = try await Self.spend(
            harness, gateway: "edge", atLeast: Decimal(passed) * Decimal(string: "0.0004")!)
        let spent = try #require(Self.amount(rules.first?["spent"]))
        #expect(spent == Decimal(passed) * Decimal(string: "0.0004")!)
        #expect(spent <= Decimal(string: "0.001")! + Decimal(n) * Decimal(string: "0.0004")!)
        #expect(try await Self.send(harness, gateway: "edge").status == 429)
        try await harness.stop()
    }
}
