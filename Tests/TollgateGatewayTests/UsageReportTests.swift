import Foundation
import Testing
import TollgateModel

/// Usage and the monthly report over HTTP, answered from the rollups: they agree with the logs they summarize,
/// CSV with JSON, and bad parameters are named.
@Suite(.serialized) struct UsageReportTests {
    static let headers = ["Content-Type": "application/json"]

    static func chat(_ model: String) -> Data {
        Data(#"{"model":"\#(model)","messages":[{"role":"user","content":"how much did this cost me"}]}"#.utf8)
    }

    /// Sends a mix: two priced models, an unpriced one, a refused request, a custom-cost one.
    static func sendTraffic(_ harness: GatewayHarness) async throws -> Int {
        let prices = [
            #"{"provider":"openai","model":"usage-a","effective_from":"2020-01-01","input":1,"output":4}"#,
            #"{"provider":"openai","model":"usage-b","effective_from":"2020-01-01","input":0.5,"output":2,"cached_input":0.05}"#,
        ]
        for price in prices { #expect(try await harness.api("POST", "/api/v1/prices", json: price).status == 201) }
        var sent = 0
        for i in 0..<6 {
            var headers = Self.headers
            if i == 2 { headers["x-mock-usage"] = "cached=4" }
            _ = try await harness.request(
                "POST", "/v1/default/default/openai/chat/completions", headers: headers,
                body: Self.chat(i % 2 == 0 ? "usage-a" : "usage-b"))
            sent += 1
        }
        _ = try await harness.request(
            "POST", "/v1/default/default/openai/chat/completions", headers: Self.headers, body: Self.chat("usage-x"))
        var refused = Self.headers
        refused["x-mock-fault"] = "status=500"
        _ = try await harness.request(
            "POST", "/v1/default/default/openai/chat/completions", headers: refused, body: Self.chat("usage-a"))
        var custom = Self.headers
        custom["cf-aig-custom-cost"] = #"{"total_cost":0.25}"#
        _ = try await harness.request(
            "POST", "/v1/default/default/openai/chat/completions", headers: custom, body: Self.chat("usage-x"))
        return sent + 3
    }

    static func picodollars(_ value: Any?) -> Int64? {
        guard let number = value as? NSNumber else { return nil }
        return ExactDecimal.scaled(number.description, scale: 12).map { Int64($0) }
    }

    /// Polls the usage totals until they count `requests` (the rollups checkpoint right after the index commit).
    static func waitForUsage(_ harness: GatewayHarness, requests: Int) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(3)
        while true {
            let body = try await harness.api("/api/v1/accounts/default/usage?interval=hour&group_by=model").json()
            let totals = body["totals"] as? [String: Any]
            if totals?["requests"] as? Int == requests || ContinuousClock.now >= deadline { return body }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test func usageAndTheMonthlyReportAddUpToTheLogs() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let count = try await Self.sendTraffic(harness)
        let logs = try await harness.waitForLogs(count: count)
        #expect(logs.count == count)
        let usage = try await Self.waitForUsage(harness, requests: count)
        let totals = try #require(usage["totals"] as? [String: Any])

        let tokensIn = logs.compactMap { $0["tokens_in"] as? Int64 }.reduce(0, +)
        let tokensOut = logs.compactMap { $0["tokens_out"] as? Int64 }.reduce(0, +)
        let cost = logs.compactMap { Self.picodollars($0["cost"]) }.reduce(0, +)
        let unpriced = logs.filter { $0["cost"] is NSNull }.count
        #expect(totals["requests"] as? Int == count)
        #expect(totals["errors"] as? Int == logs.filter { $0["success"] as? Bool == false }.count)
        #expect(totals["tokens_in"] as? Int64 == tokensIn)
        #expect(totals["tokens_out"] as? Int64 == tokensOut)
        #expect(Self.picodollars(totals["cost"]) == cost)
        #expect(totals["unpriced"] as? Int == unpriced && unpriced == 1)
        let latency = try #require(totals["latency_ms"] as? [String: Any])
        #expect((latency["p50"] as? Double ?? 0) > 0)

        // Rows per model add up to the totals.
        let rows = try #require(usage["rows"] as? [[String: Any]])
        #expect(rows.reduce(0) { $0 + ($1["requests"] as? Int ?? 0) } == count)
        #expect(Set(rows.compactMap { $0["model"] as? String }) == ["usage-a", "usage-b", "usage-x"])

        // The monthly report of this month: totals count every request, cost is the sum of the priced lines.
        let month = UTCMonth.name(UTCMonth.start(of: Int64(Date().timeIntervalSince1970 * 1000)))
        let report = try await harness.api("/api/v1/accounts/default/reports/monthly?month=\(month)").json()
        let reportTotals = try #require(report["totals"] as? [String: Any])
        #expect(reportTotals["requests"] as? Int == count)
        #expect(reportTotals["tokens_in"] as? Int64 == tokensIn)
        #expect(Self.picodollars(reportTotals["cost"]) == cost)
        let lines = try #require(report["lines"] as? [[String: Any]])
        #expect(lines.compactMap { Self.picodollars($0["cost"]) }.reduce(0, +) == cost)
        let unpricedLines = try #require(report["unpriced"] as? [[String: Any]])
        #expect(unpricedLines.count == 1 && unpricedLines[0]["model"] as? String == "usage-x")
        #expect(unpricedLines[0]["cost"] is NSNull)
        let quota = try #require(report["log_quota"] as? [String: Any])
        #expect(quota["used"] as? Int == count && quota["limit"] as? Int == 100_000)

        // CSV agrees with JSON line for line, unpriced rows marked, a totals row at full precision.
        let csv = try await harness.api("/api/v1/accounts/default/reports/monthly?month=\(month)&format=csv")
        #expect(csv.headers["content-type"]?.hasPrefix("text/csv") == true)
        let csvRows = csv.text.split(separator: "\r\n").map {
            $0.split(separator: ",", omittingEmptySubsequences: false)
        }
        #expect(csvRows.first?[11] == "cost_usd" && csvRows.first?.last == "spend_limited")
        #expect(csvRows.count == 1 + lines.count + unpricedLines.count + 1)
        let total = try #require(csvRows.last)
        #expect(total[4] == "total" && Int(total[5]) == count)
        #expect(ExactDecimal.scaled(total[11], scale: 12) == Int128(cost))
        #expect(csvRows.filter { $0.count > 4 && $0[4] == "unpriced" }.allSatisfy { $0[10].isEmpty })
        try await harness.stop()
    }

    @Test func aRepriceMovesTheRollupsWithTheLogs() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let count = try await Self.sendTraffic(harness)
        _ = try await harness.waitForLogs(count: count)
        _ = try await Self.waitForUsage(harness, requests: count)
        // usage-x gets a price: its request becomes priced, in the logs and in the rollups.
        let price = #"{"provider":"openai","model":"usage-x","effective_from":"2020-01-01","input":3,"output":3}"#
        #expect(try await harness.api("POST", "/api/v1/prices", json: price).status == 201)
        let reprice = try await harness.api(
            "POST", "/api/v1/accounts/default/reprice", json: #"{"from":"2020-01-01","to":"2100-01-01"}"#)
        #expect(try reprice.json()["changed"] as? Int == 1)
        let logs = try await harness.waitForLogs(count: count)
        let cost = logs.compactMap { Self.picodollars($0["cost"]) }.reduce(0, +)
        #expect(logs.allSatisfy { !($0["cost"] is NSNull) })
        let usage = try await harness.api("/api/v1/accounts/default/usage?interval=month").json()
        let totals = try #require(usage["totals"] as? [String: Any])
        #expect(Self.picodollars(totals["cost"]) == cost)
        #expect(totals["unpriced"] as? Int == 0 && totals["requests"] as? Int == count)
        try await harness.stop()
    }

    @Test func theDefaultRangeAndMonthComeFromTheGatewaysClock() async throws {
        let now = try #require(RFC3339.parse("2026-02-14T12:00:30Z"))
        let harness = try await GatewayHarness.start { $0.clock = .fixed(now) }
        defer { Task { try? await harness.stop() } }
        let usage = try await harness.api("/api/v1/accounts/default/usage").json()
        // The last seven days up to now, `to` ceiled to the minute.
        #expect(usage["to"] as? String == "2026-02-14T12:01:00.000Z")
        #expect(usage["from"] as? String == "2026-02-07T12:01:00.000Z")
        let report = try await harness.api("/api/v1/accounts/default/reports/monthly").json()
        #expect(report["month"] as? String == "2026-02")
        // One clock for the whole gateway: a proxied request is logged at its time, counted in its month's quota
        // and in its rollups.
        _ = try await harness.request(
            "POST", "/v1/default/default/openai/chat/completions", headers: Self.headers, body: Self.chat("usage-a"))
        let logs = try await harness.waitForLogs(count: 1)
        #expect(logs.first?["created_at"] as? String == "2026-02-14T12:00:30.000Z")
        let quota = try await harness.api("/api/v1/accounts/default/quota").json()
        #expect(quota["period"] as? String == "2026-02" && quota["used"] as? Int == 1)
        // The default range is the clock's last seven days.
        let counted = try await Self.waitForUsage(harness, requests: 1)
        #expect((counted["totals"] as? [String: Any])?["requests"] as? Int == 1)
    }

    @Test func badUsageParametersAreNamed() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let cases: [(String, String)] = [
            ("from=2026-11-02&to=2026-11-01", "from"),
            ("from=yesterday", "from"),
            ("interval=week", "interval"),
            ("group_by=model,colour", "colour"),
            ("tz=Mars/Olympus", "tz"),
            ("from=2020-01-01&to=2026-01-01&interval=minute", "interval"),
        ]
        for (query, name) in cases {
            let result = try await harness.api("/api/v1/accounts/default/usage?\(query)")
            #expect(result.status == 400, "\(query)")
            #expect(result.text.contains(name), "\(query): \(result.text)")
        }
        let month = try await harness.api("/api/v1/accounts/default/reports/monthly?month=2026-13")
        #expect(month.status == 400 && month.text.contains("month"))
        let format = try await harness.api("/api/v1/accounts/default/reports/monthly?format=xml")
        #expect(format.status == 400 && format.text.contains("format"))
        let missing = try await harness.api("/api/v1/accounts/nobody/usage")
        #expect(missing.status == 404)
        try await harness.stop()
    }
}
