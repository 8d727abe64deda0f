import Foundation
import Testing
import TollgateModel

@testable import TollgateGateway

/// `GET /metrics`: counted at ingest, scraped in the Prometheus text format, behind the admin token.
@Suite(.serialized) struct MetricsTests {
    /// The value of the sample `name{labels}` (labels as written, in order), or nil.
    static func sample(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test func aBatchMixingSeriesCountsEachRecordInItsOwnSeries() {
        // The ingest stage sums a batch's records per series and moves each counter once: interleaved series,
        // cache hits, refusals and errors must still land where each record belongs, and add to earlier batches.
        let metrics = GatewayMetrics()
        func record(_ gateway: String, status: Int = 200, cached: Bool = false, refusal: GatewayRefusal? = nil)
            -> LogRecord
        {
            var record = LogRecord(
                id: LogID(high: 1, low: 1), createdAt: 0, account: "acme", gateway: gateway, provider: "openai",
                model: "m", path: "/v1/chat/completions", method: "POST", statusCode: status,
                success: (200..<300).contains(status), stream: false, durationMicros: 1_000, ttftMicros: nil,
                usage: Usage(tokensIn: 10, tokensOut: 2), requestSize: 1, responseSize: 1, cached: cached)
            record.refusal = refusal
            return record
        }
        let batch = [
            record("a"), record("a"), record("b", status: 500), record("a", cached: true), record("b"),
            record("a", status: 429, refusal: .rateLimited), record("b"),
        ]
        metrics.record(batch, prices: [1_000_000, 1_000_000, nil, 1_000_000, 3_000_000, nil, 3_000_000])
        metrics.record([record("a")], prices: [1_000_000])
        var bytes: [UInt8] = []
        metrics.exporter.emit(into: &bytes)
        let text = String(decoding: bytes, as: UTF8.self)
        func value(_ name: String, _ gateway: String, _ extra: String = "") -> Double? {
            Self.sample(text, name + #"{account="acme",gateway="\#(gateway)",provider="openai"\#(extra)}"#)
        }
        #expect(value("tollgate_requests_total", "a") == 5)
        #expect(value("tollgate_requests_total", "b") == 3)
        #expect(value("tollgate_errors_total", "b") == 1)
        #expect(value("tollgate_errors_total", "a") == nil, "a refusal is not an error")
        #expect(value("tollgate_cache_hits_total", "a") == 1)
        #expect(value("tollgate_rate_limited_total", "a") == 1)
        // Tokens and cost of the requests that reached the provider only (not the hit, not the refusal).
        #expect(value("tollgate_tokens_total", "a", #",direction="in""#) == 30)
        #expect(value("tollgate_tokens_total", "b", #",direction="out""#) == 6)
        #expect(value("tollgate_cost_usd_total", "a") == 3e-6)
        #expect(value("tollgate_cost_usd_total", "b") == 6e-6)
    }

    @Test func scrapeAfterTrafficShowsTheRequestsTokensCostAndRefusals() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        #expect(
            try await harness.api(
                "POST", "/api/v1/accounts/default/gateways",
                json: #"{"id":"limited","rate_limiting_limit":2,"rate_limiting_interval":3600,"#
                    + #""rate_limiting_technique":"fixed"}"#
            ).status == 201)
        let body = Data(#"{"model":"gpt-5-mini","messages":[{"role":"user","content":"hi"}]}"#.utf8)
        for _ in 0..<3 {
            let proxied = try await harness.request(
                "POST", "/v1/default/default/openai/chat/completions", headers: ["Content-Type": "application/json"],
                body: body)
            #expect(proxied.status == 200)
        }
        var statuses: [Int] = []
        for _ in 0..<3 {
            statuses.append(
                try await harness.request(
                    "POST", "/v1/default/limited/openai/chat/completions",
                    headers: ["Content-Type": "application/json"], body: body
                ).status)
        }
        #expect(statuses == [200, 200, 429])
        let logs = try await harness.waitForLogs(count: 5)
        let stored = logs.filter { $0["gateway"] as? String == "default" }
        #expect(stored.count == 3)
        let tokensIn = stored.compactMap { $0["tokens_in"] as? Int }.reduce(0, +)
        let tokensOut = stored.compactMap { $0["tokens_out"] as? Int }.reduce(0, +)
        let cost = stored.compactMap { ($0["cost"] as? NSNumber)?.doubleValue }.reduce(0, +)
        #expect(tokensIn > 0 && tokensOut > 0 && cost > 0)

        // The refused request is counted at ingest too, which may lag the logs list a little.
        var text = ""
        for _ in 0..<50 {
            let scrape = try await harness.api("GET", "/metrics")
            #expect(scrape.status == 200)
            #expect(scrape.headers["content-type"]?.hasPrefix("text/plain") == true)
            text = scrape.text
            if Self.sample(text, #"tollgate_requests_total{account="default",gateway="limited",provider="openai"}"#)
                == 3
            {
                break
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let defaultGateway = #"{account="default",gateway="default",provider="openai"}"#
        let limited = #"{account="default",gateway="limited",provider="openai"}"#
        #expect(Self.sample(text, "tollgate_requests_total" + defaultGateway) == 3)
        #expect(Self.sample(text, "tollgate_requests_total" + limited) == 3)
        #expect(Self.sample(text, "tollgate_rate_limited_total" + limited) == 1)
        #expect(Self.sample(text, "tollgate_errors_total" + limited) == nil)
        #expect(
            Self.sample(
                text, #"tollgate_tokens_total{account="default",gateway="default",provider="openai",direction="in"}"#)
                == Double(tokensIn))
        #expect(
            Self.sample(
                text, #"tollgate_tokens_total{account="default",gateway="default",provider="openai",direction="out"}"#)
                == Double(tokensOut))
        let scrapedCost = try #require(Self.sample(text, "tollgate_cost_usd_total" + defaultGateway))
        #expect(abs(scrapedCost - cost) < 1e-9)
        #expect(Self.sample(text, #"tollgate_proxy_duration_seconds_count{provider="openai"}"#) == 5)
        #expect(Self.sample(text, #"tollgate_proxy_duration_seconds_bucket{provider="openai",le="+Inf"}"#) == 5)
        #expect(text.contains("# TYPE tollgate_proxy_ttft_seconds histogram"))
        #expect(Self.sample(text, "tollgate_store_commit_seconds_count").map { $0 >= 1 } == true)
        #expect(Self.sample(text, "tollgate_ingest_accepted_total") == 6)
        #expect(Self.sample(text, "tollgate_ingest_dropped_total") == 0)
        #expect(Self.sample(text, "tollgate_ingest_queue_depth") == 0)
        #expect(Self.sample(text, "tollgate_store_records_committed_total").map { $0 >= 5 } == true)
        #expect(Self.sample(text, #"tollgate_store_segments{state="active"}"#) == 1)
        #expect(Self.sample(text, "tollgate_store_sealed_segment_bytes") == 0)

        // Without the admin token: 401; with an account token: 403.
        #expect(try await harness.request("GET", "/metrics").status == 401)
        let token = try await harness.api("POST", "/api/v1/accounts/default/tokens")
        let secret = try #require(try token.json()["token"] as? String)
        #expect(
            try await harness.request("GET", "/metrics", headers: ["Authorization": "Bearer \(secret)"]).status == 403)
        try await harness.stop()

        // The segment sealed at shutdown shows with its size after a restart; the counters start again.
        let restarted = try await GatewayHarness.start(dataDirectory: harness.dataDirectory)
        let after = try await restarted.api("GET", "/metrics").text
        #expect(Self.sample(after, #"tollgate_store_segments{state="sealed"}"#).map { $0 >= 1 } == true)
        #expect(Self.sample(after, "tollgate_store_sealed_segment_bytes").map { $0 > 0 } == true)
        #expect(Self.sample(after, "tollgate_requests_total" + defaultGateway) == nil)
        try await restarted.stop()
    }

    @Test func quotaRefusalsAreCountedByAccount() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        #expect(
            try await harness.api(
                "PATCH", "/api/v1/accounts/default", json: #"{"log_limit":0,"log_management_strategy":"reject"}"#
            ).status == 200)
        let body = Data(#"{"model":"gpt-5-mini","messages":[{"role":"user","content":"hi"}]}"#.utf8)
        for _ in 0..<2 {
            let refused = try await harness.request(
                "POST", "/v1/default/default/openai/chat/completions", headers: ["Content-Type": "application/json"],
                body: body)
            #expect(refused.status == 429)
        }
        let text = try await harness.api("GET", "/metrics").text
        #expect(Self.sample(text, #"tollgate_quota_refused_total{account="default"}"#) == 2)
        try await harness.stop()
    }
}
