import Foundation
import Testing
import TollgateModel

/// Monthly log quotas at the edge: exact under concurrency, each strategy, counted again after a restart, and
/// requests without a stored log still in usage.
@Suite(.serialized) struct LogQuotaTests {
    static let body = Data(#"{"model":"gpt-5-mini","messages":[{"role":"user","content":"quota"}]}"#.utf8)

    /// Sends `count` requests at once through `acme/prod`; returns the responses.
    static func burst(_ harness: GatewayHarness, _ count: Int, headers: [String: String] = [:]) async throws
        -> [GatewayHarness.HTTPResult]
    {
        try await withThrowingTaskGroup(of: GatewayHarness.HTTPResult.self) { group in
            for _ in 0..<count {
                group.addTask {
                    try await harness.request(
                        "POST", "/v1/acme/prod/openai/chat/completions",
                        headers: ["Content-Type": "application/json"].merging(headers) { $1 }, body: Self.body)
                }
            }
            var results: [GatewayHarness.HTTPResult] = []
            for try await result in group { results.append(result) }
            return results
        }
    }

    static func setUp(_ harness: GatewayHarness, limit: Int, strategy: String) async throws {
        _ = try await harness.api("POST", "/api/v1/accounts", json: #"{"id":"acme","tier":"free"}"#)
        _ = try await harness.api("POST", "/api/v1/accounts/acme/gateways", json: #"{"id":"prod"}"#)
        let patched = try await harness.api(
            "PATCH", "/api/v1/accounts/acme",
            json: #"{"log_limit":\#(limit),"log_management_strategy":"\#(strategy)"}"#)
        #expect(patched.status == 200, "\(patched.text)")
        #expect(try patched.json()["log_limit"] as? Int == limit)
    }

    static func waitForUsage(_ harness: GatewayHarness, requests: Int) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            let usage = try await harness.api("/api/v1/accounts/acme/usage?interval=month").json()
            let seen = (usage["totals"] as? [String: Any])?["requests"] as? Int ?? 0
            if seen >= requests || ContinuousClock.now >= deadline { return seen }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    @Test func stopInsertingStoresExactlyTheLimitAndStillCountsEveryRequest() async throws {
        let data = makeTemporaryDirectory()
        var harness = try await GatewayHarness.start(dataDirectory: data)
        // Whichever gateway is running when the test ends, also when it ends early.
        defer {
            let running = harness
            Task { try? await running.stop() }
        }
        try await Self.setUp(harness, limit: 25, strategy: "stop_inserting")
        let results = try await Self.burst(harness, 120)
        #expect(results.allSatisfy { $0.status == 200 })
        let refused = results.filter { $0.headers["cf-aig-log-status"] == "quota_exceeded" }
        #expect(refused.count == 95)
        let logs = try await harness.waitForLogs(account: "acme", count: 25)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await harness.waitForLogs(account: "acme", count: 26, timeout: .zero).count == 25)
        #expect(logs.count == 25)
        // Every request counts in usage and cost, stored log or not.
        #expect(try await Self.waitForUsage(harness, requests: 120) == 120)
        let quota = try await harness.api("/api/v1/accounts/acme/quota").json()
        #expect(quota["used"] as? Int == 25 && quota["remaining"] as? Int == 0 && quota["limit"] as? Int == 25)
        #expect(quota["strategy"] as? String == "stop_inserting" && quota["tier"] as? String == "free")
        #expect((quota["resets_at"] as? String)?.contains("-01T00:00:00") == true)

        // The count survives a restart: still full, the next request is not stored either.
        try await harness.stop()
        harness = try await GatewayHarness.start(dataDirectory: data)
        let after = try await harness.api("/api/v1/accounts/acme/quota").json()
        #expect(after["used"] as? Int == 25)
        let next = try await Self.burst(harness, 1)
        #expect(next.first?.headers["cf-aig-log-status"] == "quota_exceeded")

        // Raising the limit takes effect at once.
        _ = try await harness.api("PATCH", "/api/v1/accounts/acme", json: #"{"log_limit":27}"#)
        let more = try await Self.burst(harness, 5)
        #expect(more.filter { $0.headers["cf-aig-log-status"] == nil }.count == 2)
        _ = try await harness.waitForLogs(account: "acme", count: 27)
        #expect(try await harness.api("/api/v1/accounts/acme/quota").json()["used"] as? Int == 27)
        try await harness.stop()
    }

    @Test func rejectRefusesBeforeTheProviderIsCalled() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        try await Self.setUp(harness, limit: 10, strategy: "reject")
        let before = harness.mock.requestCount
        let results = try await Self.burst(harness, 40)
        #expect(results.filter { $0.status == 200 }.count == 10)
        let rejected = results.filter { $0.status == 429 }
        #expect(rejected.count == 30)
        let error = try #require(try rejected.first?.json()["error"] as? [String: Any])
        #expect(error["code"] as? String == "log_quota_exceeded")
        #expect(harness.mock.requestCount - before == 10, "a rejected request never reaches the provider")
        #expect(try await harness.waitForLogs(account: "acme", count: 10).count == 10)
        try await harness.stop()
    }

    @Test func deleteOldestKeepsTheNewestLogsAtTheLimit() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        try await Self.setUp(harness, limit: 10, strategy: "delete_oldest")
        var ids: [String] = []
        for _ in 0..<3 {
            let results = try await Self.burst(harness, 10)
            #expect(results.allSatisfy { $0.status == 200 && $0.headers["cf-aig-log-status"] == nil })
            ids += results.compactMap { $0.headers["cf-aig-log-id"] }
            try await Task.sleep(for: .milliseconds(120))  // a few commits apart
        }
        // Every log is stored within a commit or two, and the oldest are deleted after the commit that passed the
        // limit: wait (bounded) until the last burst is listed, on a loaded machine too.
        let newest = Set(ids.sorted().suffix(10))
        let deadline = ContinuousClock.now + .seconds(10)
        var logs: [[String: Any]] = []
        repeat {
            logs = try await harness.waitForLogs(account: "acme", count: 10)
            if logs.count == 10, Set(logs.compactMap { $0["id"] as? String }) == newest { break }
            try await Task.sleep(for: .milliseconds(50))
        } while ContinuousClock.now < deadline
        #expect(logs.count == 10)
        // The ones kept are the newest ten (ids sort by time).
        #expect(Set(logs.compactMap { $0["id"] as? String }) == newest)
        #expect(try await harness.api("/api/v1/accounts/acme/quota").json()["used"] as? Int == 10)
        #expect(try await Self.waitForUsage(harness, requests: 30) == 30, "deleted logs still count in usage")
        try await harness.stop()
    }

    @Test func requestsWithoutALogAreNotCountedAgainstTheQuota() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        try await Self.setUp(harness, limit: 3, strategy: "stop_inserting")
        let off = try await Self.burst(harness, 5, headers: ["cf-aig-collect-log": "false"])
        #expect(off.allSatisfy { $0.status == 200 && $0.headers["cf-aig-log-status"] == nil })
        #expect(try await Self.waitForUsage(harness, requests: 5) == 5)
        #expect(try await harness.api("/api/v1/accounts/acme/quota").json()["used"] as? Int == 0)
        #expect(try await harness.waitForLogs(account: "acme", count: 1, timeout: .milliseconds(300)).isEmpty)
        try await harness.stop()
    }

    @Test func accountSettingsAreValidated() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let cases: [(String, String)] = [
            (#"{"tier":"gold"}"#, "tier"),
            (#"{"log_limit":-1}"#, "log_limit"),
            (#"{"log_limit":"many"}"#, "log_limit"),
            (#"{"log_management_strategy":"shrug"}"#, "log_management_strategy"),
            (#"{"retention_days":0}"#, "retention_days"),
            (#"{"colour":"red"}"#, "colour"),
        ]
        for (body, name) in cases {
            let result = try await harness.api("PATCH", "/api/v1/accounts/default", json: body)
            #expect(result.status == 400, "\(body)")
            #expect(result.text.contains(name), "\(body): \(result.text)")
        }
        let paid = try await harness.api(
            "PATCH", "/api/v1/accounts/default", json: #"{"tier":"paid","log_limit":null}"#)
        #expect(try paid.json()["log_limit"] as? Int == 1_000_000)
        #expect(try paid.json()["retention_days"] as? Int == 90)
        #expect(try await harness.api("PATCH", "/api/v1/accounts/nobody", json: "{}").status == 404)
        try await harness.stop()
    }
}
