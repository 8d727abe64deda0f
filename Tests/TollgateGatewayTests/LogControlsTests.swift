import Foundation
import Testing
import TollgateAnalytics
import TollgateModel
import TollgateStorage

/// What the gateway's controls record, from the exchange the proxy hands to the ingest queue to what a user reads:
/// cache hits cost nothing and show what they saved; refused requests count in usage as `rate_limited` and
/// `spend_limited`, never as logs or against the log quota; every attempt of one request shares an event id; the
/// logs list filters on all of it; and `PATCH …/logs/{id}` puts human feedback on a log that survives a restart,
/// compaction and goes when the log goes.
@Suite(.serialized) struct LogControlsTests {
    static let price = #"{"provider":"openai","model":"ctl-a","effective_from":"2020-01-01","input":1,"output":4}"#
    /// 1,000 tokens in at $1 per 1M and 500 out at $4 per 1M.
    static let oneRequest: Int64 = 3_000_000_000

    let ids = LogIDGenerator()

    /// An OpenAI chat completion of `ctl-a` that used 1,000 tokens in and 500 out, as the proxy captures it.
    func exchange(
        metadata: [MetadataEntry] = [], status: Int = 200, refusal: GatewayRefusal? = nil, account: String = "default"
    ) -> Exchange {
        let now = TollgateClock.system.wallMilliseconds()
        let response =
            refusal.map { #"{"error":{"code":"\#($0.rawValue)","message":"refused"}}"# }
            ?? #"{"model":"ctl-a","choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":500}}"#
        var exchange = Exchange(
            id: ids.next(millisecondsSinceEpoch: now), startedAt: now, account: account, gateway: "default",
            provider: "openai", method: "POST", path: "/chat/completions", query: nil,
            requestHeaders: [("content-type", "application/json")],
            requestBody: Array(#"{"model":"ctl-a","messages":[{"role":"user","content":"hi"}]}"#.utf8),
            statusCode: refusal == nil ? status : 429, responseHeaders: [Header("content-type", "application/json")],
            responseBody: Array(response.utf8), responseSize: Int64(response.utf8.count), requestSize: 60,
            durationMicros: 1_500, ttftMicros: refusal == nil ? 900 : nil, error: nil, metadata: metadata)
        exchange.refusal = refusal
        return exchange
    }

    /// Submits exchanges through the ingest queue, each holding a log quota reservation as the proxy takes one.
    func submit(_ harness: GatewayHarness, _ exchanges: [Exchange]) {
        for var exchange in exchanges {
            if case .store = harness.gateway.quota.admit(account: exchange.account) { exchange.quotaReserved = true }
            harness.gateway.queue.submit(exchange)
        }
    }

    func usageTotals(_ harness: GatewayHarness, requests: Int) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            let usage = try await harness.api("/api/v1/accounts/default/usage?interval=hour")
            let totals = try usage.json()["totals"] as? [String: Any] ?? [:]
            if totals["requests"] as? Int == requests || ContinuousClock.now >= deadline { return totals }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    func logs(_ harness: GatewayHarness, _ query: String) async throws -> [String] {
        let result = try await harness.api("/api/v1/accounts/default/logs?limit=1000&order=asc&\(query)")
        #expect(result.status == 200, "\(query): \(result.text)")
        return (try result.json()["logs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    func detail(_ harness: GatewayHarness, _ id: String) async throws -> [String: Any] {
        let result = try await harness.api("/api/v1/accounts/default/logs/\(id)")
        #expect(result.status == 200, "\(result.text)")
        return try result.json()
    }

    @Test func cacheHitsRefusalsAndAttemptsInLogsUsageAndReports() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        #expect(try await harness.api("POST", "/api/v1/prices", json: Self.price).status == 201)

        let first = exchange()
        var hit = exchange()
        hit.cached = true
        // A retry of the first request: the gateway named the event after the first attempt.
        var retry = exchange()
        retry.eventID = first.id.description
        retry.attempt = 2
        // A universal endpoint request with the client's event id: step 0 failed, step 1 answered.
        var step0 = exchange(status: 503)
        step0.eventID = "client-event-9"
        step0.step = 0
        var step1 = exchange()
        step1.eventID = "client-event-9"
        step1.attempt = 2
        step1.step = 1
        let rateLimited = exchange(refusal: .rateLimited)
        let spendLimited = exchange(refusal: .spendLimitExceeded)
        submit(harness, [first, hit, retry, step0, step1, rateLimited, spendLimited])

        let totals = try await usageTotals(harness, requests: 7)
        #expect(totals["requests"] as? Int == 7)
        #expect(totals["cached_requests"] as? Int == 1)
        #expect(UsageReportTests.picodollars(totals["saved_cost"]) == Self.oneRequest)
        #expect(totals["rate_limited"] as? Int == 1)
        #expect(totals["spend_limited"] as? Int == 1)
        #expect(totals["errors"] as? Int == 3)

        // Refused requests are usage records: not listed, not against the log quota, and, like the hit, free: the
        // cost is the listed logs' cost, three answers from the provider (and what the failed step is charged).
        let all = try await harness.waitForLogs(count: 5)
        let charged = all.compactMap { UsageReportTests.picodollars($0["cost"]) }.reduce(0, +)
        #expect(charged >= 3 * Self.oneRequest)
        #expect(UsageReportTests.picodollars(totals["cost"]) == charged)
        #expect(
            Set(all.compactMap { $0["id"] as? String }) == Set([first, hit, retry, step0, step1].map(\.id.description)))
        #expect(all.allSatisfy { $0["status_code"] as? Int != 429 })
        let quota = try await harness.api("/api/v1/accounts/default/quota").json()
        #expect(quota["used"] as? Int == 5)
        // The refusals' reservations were given back at once, the logs' turned into stored logs at the commit.
        let account = try #require(try harness.gateway.store.catalog.account("default"))
        #expect(harness.gateway.quota.usage(of: account).pending == 0)

        // The hit costs 0 and shows what it saved; the first request costs that much and saved nothing.
        let hitLog = try await detail(harness, hit.id.description)
        #expect(hitLog["cached"] as? Bool == true && UsageReportTests.picodollars(hitLog["cost"]) == 0)
        #expect(UsageReportTests.picodollars(hitLog["saved"]) == Self.oneRequest)
        #expect(hitLog["tokens_in"] as? Int == 1000)
        let firstLog = try await detail(harness, first.id.description)
        #expect(firstLog["cached"] as? Bool == false && firstLog["saved"] is NSNull)
        #expect(UsageReportTests.picodollars(firstLog["cost"]) == Self.oneRequest)
        #expect(firstLog["event_id"] as? String == first.id.description)
        #expect(firstLog["attempt"] as? Int == 1 && firstLog["step"] is NSNull)
        #expect(firstLog["feedback"] is NSNull && firstLog["score"] is NSNull)
        let retryLog = try await detail(harness, retry.id.description)
        #expect(retryLog["event_id"] as? String == first.id.description && retryLog["attempt"] as? Int == 2)
        let stepLog = try await detail(harness, step1.id.description)
        #expect(stepLog["event_id"] as? String == "client-event-9" && stepLog["step"] as? Int == 1)

        // Filters: the cache, one event (named by the gateway or by the client), combined with others.
        #expect(try await logs(harness, "cached=true") == [hit.id.description])
        #expect(
            try await logs(harness, "cached=false")
                == [first, retry, step0, step1].map(\.id.description))
        #expect(try await logs(harness, "event_id=\(first.id)") == [first, retry].map(\.id.description))
        #expect(try await logs(harness, "event_id=client-event-9") == [step0, step1].map(\.id.description))
        #expect(try await logs(harness, "event_id=client-event-9&success=true") == [step1.id.description])
        #expect(try await logs(harness, "event_id=\(rateLimited.id)").isEmpty)
        #expect(try await logs(harness, "event_id=\(retry.id)").isEmpty)

        // The monthly report, in every format the API and `tollgate report` give.
        let report = try await harness.api("/api/v1/accounts/default/reports/monthly").json()
        let reportTotals = try #require(report["totals"] as? [String: Any])
        #expect(reportTotals["requests"] as? Int == 7 && reportTotals["cached_requests"] as? Int == 1)
        #expect(UsageReportTests.picodollars(reportTotals["saved_cost"]) == Self.oneRequest)
        #expect(reportTotals["rate_limited"] as? Int == 1 && reportTotals["spend_limited"] as? Int == 1)
        let line = try #require((report["lines"] as? [[String: Any]])?.first { $0["model"] as? String == "ctl-a" })
        #expect(line["cached_requests"] as? Int == 1 && line["rate_limited"] as? Int == 1)
        let csv = try await harness.api("/api/v1/accounts/default/reports/monthly?format=csv").text
        let rows = csv.split(separator: "\r\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let header = try #require(rows.first).map(String.init)
        let total = try #require(rows.last).map(String.init)
        #expect(header.suffix(4) == ["cached_requests", "saved_cost_usd", "rate_limited", "spend_limited"])
        #expect(total.suffix(4) == ["1", "0.003", "1", "1"])
        let monthly = try MonthlyReport.make(
            account: account, monthStart: UTCMonth.start(of: first.startedAt), rollups: harness.gateway.ledger.rollups,
            catalog: harness.gateway.store.catalog)
        #expect(monthly.totals.cachedRequests == 1 && monthly.totals.savedCost.picodollars == Int128(Self.oneRequest))
        #expect(
            monthly.markdown().contains(
                "Cache hits: 1, saving $0.003. Refused: 1 over a rate limit, 1 over a spend limit."))

        // Rollups rebuilt from the segments count the same.
        try harness.gateway.ledger.catchUp(harness.gateway.store, rebuild: true)
        let rebuilt = try await usageTotals(harness, requests: 7)
        for key in ["requests", "cached_requests", "rate_limited", "spend_limited", "errors"] {
            #expect(rebuilt[key] as? Int == totals[key] as? Int, "\(key)")
        }
        #expect(UsageReportTests.picodollars(rebuilt["saved_cost"]) == Self.oneRequest)
        #expect(UsageReportTests.picodollars(rebuilt["cost"]) == charged)
        try await harness.stop()

        // `tollgate report` in each format and `tollgate export` on the stopped gateway's folder.
        let data = harness.dataDirectory
        let month = UTCMonth.name(UTCMonth.start(of: first.startedAt))
        let markdown = try Self.run(["report", "--data", data, "--account", "default", "--month", month])
        #expect(markdown.contains("Cache hits: 1, saving $0.003. Refused: 1 over a rate limit, 1 over a spend limit."))
        #expect(markdown.contains("| cache hits | saved (USD) | rate limited | spend limited |"))
        let csvReport = try Self.run(["report", "--data", data, "--account", "default", "--format", "csv"])
        #expect(csvReport.split(separator: "\r\n").last?.hasSuffix(",1,0.003,1,1") == true, "\(csvReport)")
        let jsonReport = try Self.run(["report", "--data", data, "--account", "default", "--format", "json"])
        let cliTotals = try #require(
            (try JSONSerialization.jsonObject(with: Data(jsonReport.utf8)) as? [String: Any])?["totals"]
                as? [String: Any])
        #expect(cliTotals["cached_requests"] as? Int == 1 && cliTotals["rate_limited"] as? Int == 1)
        let day: Int64 = 86_400_000
        let exported = try Self.run([
            "export", "--data", data, "--account", "default", "--format", "ndjson",
            "--from", RFC3339.format(milliseconds: first.startedAt - day),
            "--to", RFC3339.format(milliseconds: first.startedAt + day),
        ])
        let exportedRows = try exported.split(separator: "\n").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
        #expect(exportedRows.count == 5)
        let exportedHit = try #require(exportedRows.first { $0["id"] as? String == hit.id.description })
        #expect(
            exportedHit["cached"] as? Bool == true
                && UsageReportTests.picodollars(exportedHit["saved"]) == Self.oneRequest)
        let exportedStep = try #require(exportedRows.first { $0["id"] as? String == step1.id.description })
        #expect(exportedStep["event_id"] as? String == "client-event-9" && exportedStep["step"] as? Int == 1)
        #expect(exportedStep["attempt"] as? Int == 2 && exportedStep["feedback"] is NSNull)
    }

    /// Runs the `tollgate` binary; its standard output.
    static func run(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CrashRecoveryTests.binary)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(arguments)")
        return String(decoding: data, as: UTF8.self)
    }

    /// A cache hit and a refusal cost nothing, so they spend nothing of a spend limit; an answered request does.
    @Test func cacheHitsAndRefusalsSpendNothing() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        #expect(try await harness.api("POST", "/api/v1/prices", json: Self.price).status == 201)
        let limits = #"{"spend_limits":{"rules":[{"id":"daily","limit":"10","window":86400}]}}"#
        #expect(try await harness.api("PATCH", "/api/v1/accounts/default/gateways/default", json: limits).status == 200)
        func spent() async throws -> Int64? {
            let spend = try await harness.api("/api/v1/accounts/default/gateways/default/spend").json()
            return UsageReportTests.picodollars((spend["rules"] as? [[String: Any]])?.first?["spent"])
        }
        var hit = exchange()
        hit.cached = true
        submit(harness, [hit, exchange(refusal: .spendLimitExceeded)])
        _ = try await usageTotals(harness, requests: 2)
        #expect(try await spent() == 0)
        submit(harness, [exchange()])
        _ = try await usageTotals(harness, requests: 3)
        #expect(try await spent() == Self.oneRequest)
        try await harness.stop()
    }

    @Test func feedbackScoreAndMetadataArePatchedFilteredAndKept() async throws {
        let data = makeTemporaryDirectory()
        var harness = try await GatewayHarness.start(dataDirectory: data) {
            $0.store.segments.maxSegmentBytes = 4_096
            $0.store.segments.trainsDictionary = false
            $0.retention.enabled = false
        }
        // Whichever gateway is running when the test ends, also when it ends early.
        defer {
            let running = harness
            Task { try? await running.stop() }
        }
        let alice = [MetadataEntry("user", .string("alice")), MetadataEntry("beta", .bool(true))]
        let bob = [MetadataEntry("user", .string("bob")), MetadataEntry("tries", .number(2))]
        let sent = [exchange(metadata: alice), exchange(metadata: bob), exchange(metadata: alice), exchange()]
        submit(harness, sent)
        #expect(try await harness.waitForLogs(count: 4).count == 4)
        let id = sent[0].id.description
        let path = "/api/v1/accounts/default/logs/\(id)"

        // Request metadata filters: text, booleans and numbers as shown.
        #expect(try await logs(harness, "metadata.user=alice") == [sent[0], sent[2]].map(\.id.description))
        #expect(try await logs(harness, "metadata.beta=true&metadata.user=alice").count == 2)
        #expect(try await logs(harness, "metadata.tries=2") == [sent[1].id.description])
        #expect(try await logs(harness, "metadata.user=carol").isEmpty)

        // Feedback, score and new metadata in one PATCH; the answer is the log as GET shows it.
        let patched = try await harness.api(
            "PATCH", path, json: #"{"feedback":1,"score":90,"metadata":{"user":"carol","vip":true}}"#)
        #expect(patched.status == 200, "\(patched.text)")
        let log = try patched.json()
        #expect(log["id"] as? String == id && log["feedback"] as? Int == 1 && log["score"] as? Int == 90)
        #expect(log["metadata"] as? NSDictionary == ["user": "carol", "vip": true] as NSDictionary)
        #expect(log["request_headers"] is [String: Any])
        #expect(try await detail(harness, id)["score"] as? Int == 90)
        _ = try await harness.api("PATCH", "/api/v1/accounts/default/logs/\(sent[1].id)", json: #"{"feedback":-1}"#)

        // The patched metadata replaces the request's in what the filters match.
        #expect(try await logs(harness, "metadata.user=carol") == [id])
        #expect(try await logs(harness, "metadata.user=alice") == [sent[2].id.description])
        #expect(try await logs(harness, "metadata.vip=true&feedback=1") == [id])
        #expect(try await logs(harness, "feedback=-1") == [sent[1].id.description])
        #expect(try await logs(harness, "feedback=1&cached=true").isEmpty)

        // A field left out stays; null (or feedback 0, Cloudflare's "not evaluated") clears it.
        let cleared = try await harness.api("PATCH", path, json: #"{"score":null}"#).json()
        #expect(cleared["score"] is NSNull && cleared["feedback"] as? Int == 1)
        #expect(try await harness.api("PATCH", path, json: #"{"feedback":0}"#).json()["feedback"] is NSNull)
        let back = try await harness.api("PATCH", path, json: #"{"metadata":null,"score":7}"#).json()
        #expect(back["metadata"] as? NSDictionary == ["user": "alice", "beta": true] as NSDictionary)
        #expect(back["score"] as? Int == 7)
        #expect(try await logs(harness, "metadata.user=alice") == [sent[0], sent[2]].map(\.id.description))

        // Refused bodies and filters name the culprit; nothing changes.
        let refused: [(String, String)] = [
            ("{}", "expected at least one of feedback, score, metadata"),
            (#"{"feedback":2}"#, "feedback: expected"),
            (#"{"feedback":"1"}"#, "feedback: expected"),
            (#"{"score":101}"#, "score: expected"),
            (#"{"score":50.5}"#, "score: expected"),
            (#"{"score":1,"score":2}"#, "score: given more than once"),
            (#"{"colour":1}"#, "colour: unknown field"),
            (#"{"metadata":[1]}"#, "metadata: expected a JSON object"),
            (#"{"metadata":{"team":{"id":1}}}"#, "metadata.team: expected a string, a number or a boolean"),
            (#"{"metadata":{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1}}"#, "metadata: at most 5 entries"),
        ]
        for (body, message) in refused {
            let response = try await harness.api("PATCH", path, json: body)
            #expect(response.status == 400, "\(body): \(response.text)")
            let error = try #require(try response.json()["error"] as? [String: Any])
            #expect((error["message"] as? String)?.hasPrefix(message) == true, "\(body): \(response.text)")
        }
        for query in ["modle=x", "metadata.=x", "feedback=0", "cached=maybe", "metadata.user=a&metadata.user=b"] {
            let response = try await harness.api("/api/v1/accounts/default/logs?\(query)")
            #expect(response.status == 400, "\(query): \(response.text)")
        }
        #expect(try await detail(harness, id)["score"] as? Int == 7)

        // Unknown, malformed and other accounts' logs: 404, as for GET; an account token annotates its own logs.
        #expect(try await harness.api("POST", "/api/v1/accounts", json: #"{"id":"acme"}"#).status == 201)
        let other = try await harness.api("POST", "/api/v1/accounts/acme/tokens").json()
        let otherToken = try #require(other["token"] as? String)
        let own = try await harness.api("POST", "/api/v1/accounts/default/tokens").json()
        let ownToken = try #require(own["token"] as? String)
        let unknown = ids.next(millisecondsSinceEpoch: TollgateClock.system.wallMilliseconds()).description
        for target in [
            "/api/v1/accounts/default/logs/\(unknown)", "/api/v1/accounts/default/logs/not-a-log",
            "/api/v1/accounts/acme/logs/\(id)", "/api/v1/accounts/nobody/logs/\(id)",
        ] {
            #expect(try await harness.api("PATCH", target, json: #"{"feedback":1}"#).status == 404, "\(target)")
        }
        for (token, status) in [(otherToken, 404), (ownToken, 200)] {
            let response = try await harness.request(
                "PATCH", path, headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"],
                body: Data(#"{"feedback":-1}"#.utf8))
            #expect(response.status == status, "\(response.text)")
        }
        #expect(try await detail(harness, id)["feedback"] as? Int == -1)

        // Kept across a restart.
        try await harness.stop()
        harness = try await GatewayHarness.start(dataDirectory: data) {
            $0.store.segments.maxSegmentBytes = 4_096
            $0.store.segments.trainsDictionary = false
            $0.retention.enabled = false
        }
        var kept = try await detail(harness, id)
        #expect(kept["feedback"] as? Int == -1 && kept["score"] as? Int == 7)

        // Kept through compaction of its segment (another log of it deleted); gone with its log.
        #expect(try await harness.api("DELETE", "/api/v1/accounts/default/logs/\(sent[3].id)").status == 200)
        let pass = try await harness.api("POST", "/api/v1/compact")
        #expect(pass.status == 200, "\(pass.text)")
        #expect((try pass.json()["logs_purged"] as? Int ?? 0) >= 1)
        kept = try await detail(harness, id)
        #expect(kept["feedback"] as? Int == -1 && kept["score"] as? Int == 7)
        #expect(try await logs(harness, "feedback=-1").count == 2)
        #expect(try await harness.api("DELETE", path).status == 200)
        #expect(try await logs(harness, "feedback=-1") == [sent[1].id.description])
        #expect(try await harness.api("PATCH", path, json: #"{"feedback":1}"#).status == 404)
        #expect(try harness.gateway.store.indexDisagreements() == [])
        try await harness.stop()
    }
}
