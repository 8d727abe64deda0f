import Foundation
import Logging
import Testing
import TollgateModel
import TollgateStorage

@testable import TollgateGateway

/// Deleting logs through the API, and the retention service: deleted and expired logs leave the API at once and
/// their content leaves the segments at the next compaction pass, while usage and reports keep counting them —
/// across a restart and a rollup rebuild.
@Suite struct RetentionTests {
    static let day: Int64 = 86_400_000
    let ids = LogIDGenerator()

    func record(at ms: Int64, _ i: Int, model: String = "gpt-5-mini", status: Int = 200) -> LogRecord {
        LogRecord(
            id: ids.next(millisecondsSinceEpoch: ms), createdAt: ms, account: "default", gateway: "default",
            provider: "openai", model: model, path: "/chat/completions", method: "POST", statusCode: status,
            success: status < 400, stream: i % 2 == 0, durationMicros: 2_000 + Int64(i) * 10, ttftMicros: 500,
            usage: Usage(tokensIn: 100 + Int64(i), tokensOut: 20), requestSize: 50, responseSize: 60,
            metadata: [MetadataEntry("n", .number(Double(i)))],
            requestBody: Array(#"{"secret prompt":\#(i)}"#.utf8), responseBody: Array("answer \(i)".utf8))
    }

    static func configure(_ c: inout GatewayApp.Configuration, now: Int64, interval: Duration? = nil) {
        c.store.segments.maxSegmentBytes = 4_096
        c.store.segments.trainsDictionary = false
        c.clock = .fixed(now)
        if let interval { c.retention.interval = interval } else { c.retention.enabled = false }
    }

    func totals(_ harness: GatewayHarness, now: Int64) async throws -> NSDictionary {
        let from = RFC3339.format(milliseconds: now - 60 * Self.day)
        let to = RFC3339.format(milliseconds: now + Self.day)
        let usage = try await harness.api("/api/v1/accounts/default/usage?from=\(from)&to=\(to)&interval=month")
        #expect(usage.status == 200)
        return try #require(usage.json()["totals"] as? NSDictionary)
    }

    func listedIDs(_ harness: GatewayHarness) async throws -> [String] {
        let logs = try await harness.api("/api/v1/accounts/default/logs?limit=1000").json()["logs"] as? [[String: Any]]
        return (logs ?? []).compactMap { $0["id"] as? String }
    }

    @Test func deleteByFiltersAndByIdThroughTheAPI() async throws {
        let now = TollgateClock.system.wallMilliseconds()
        let harness = try await GatewayHarness.start { Self.configure(&$0, now: now) }
        defer { Task { try? await harness.stop() } }
        let store = harness.gateway.store
        let records = (0..<30).map {
            record(
                at: now - Int64(30 - $0) * 1000, $0, model: $0 % 3 == 0 ? "gpt-5" : "gpt-5-mini",
                status: $0 % 5 == 0 ? 500 : 200)
        }
        try store.append(records)
        try store.commit()
        let month = UTCMonth.start(of: now)
        let before = try store.catalog.storedLogs(account: "default", monthStart: month)
        let usageBefore = try await totals(harness, now: now)

        let doomed = records.filter { $0.model == "gpt-5" && $0.statusCode == 500 }
        let deleted = try await harness.api("DELETE", "/api/v1/accounts/default/logs?model=gpt-5&status_code=500")
        #expect(deleted.status == 200)
        #expect(try deleted.json()["deleted"] as? Int == doomed.count && !doomed.isEmpty)
        let listed = try await listedIDs(harness)
        #expect(listed.count == records.count - doomed.count)
        #expect(doomed.allSatisfy { !listed.contains($0.id.description) })
        #expect(try await harness.api("/api/v1/accounts/default/logs/\(doomed[0].id)").status == 404)
        #expect(
            try store.catalog.storedLogs(account: "default", monthStart: month) == before - Int64(doomed.count))

        let one = records[1]
        let byID = try await harness.api("DELETE", "/api/v1/accounts/default/logs/\(one.id)")
        #expect(byID.status == 200)
        #expect(try byID.json()["deleted"] as? Int == 1)
        #expect(try await harness.api("DELETE", "/api/v1/accounts/default/logs/\(one.id)").status == 404)
        #expect(try await harness.api("DELETE", "/api/v1/accounts/default/logs/not-an-id").status == 404)
        #expect(try await harness.api("DELETE", "/api/v1/accounts/nobody/logs").status == 404)
        let bad = try await harness.api("DELETE", "/api/v1/accounts/default/logs?status_code=99")
        #expect(bad.status == 400)
        // Usage still counts every request.
        #expect(try await totals(harness, now: now) == usageBefore)
        try await harness.stop()
    }

    @Test func theRetentionServiceDeletesExpiredLogsAndKeepsTheirUsage() async throws {
        let now = TollgateClock.system.wallMilliseconds()
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Free tier, no setting: 30 days. 20 logs 40 days old, 20 logs 10 days old, 5 from now.
        let expired = (0..<20).map { record(at: now - 40 * Self.day + Int64($0), $0) }
        let kept =
            (0..<20).map { record(at: now - 10 * Self.day + Int64($0), $0) }
            + (0..<5).map {
                record(at: now - 1000 + Int64($0), $0)
            }
        var usageBefore: NSDictionary = [:]
        do {
            let harness = try await GatewayHarness.start(dataDirectory: directory) {
                Self.configure(&$0, now: now, interval: .milliseconds(100))
            }
            defer { Task { try? await harness.stop() } }
            try harness.gateway.store.append(expired + kept)
            try harness.gateway.store.commit()
            usageBefore = try await totals(harness, now: now)
            #expect(usageBefore["requests"] as? Int == 45)
            // The service's passes delete the expired logs and compact their segments.
            let deadline = ContinuousClock.now + .seconds(20)
            while try await listedIDs(harness).count != kept.count
                || !(try harness.gateway.store.catalog.tombstonedSegments().isEmpty)
            {
                guard ContinuousClock.now < deadline else { throw HarnessError("retention did not finish") }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(Set(try await listedIDs(harness)) == Set(kept.map(\.id.description)))
            #expect(try await totals(harness, now: now) == usageBefore)
            let thisMonth = UTCMonth.start(of: now)
            #expect(
                try harness.gateway.store.catalog.storedLogs(account: "default", monthStart: thisMonth)
                    == Int64(kept.filter { UTCMonth.start(of: $0.createdAt) == thisMonth }.count))
            try await harness.stop()
        }
        // The expired logs' content is gone from the segments; their usage records remain.
        let reader = SegmentReader(directory: directory)
        var onDisk: [LogID: LogRecord] = [:]
        for seq in try reader.segments() { try reader.forEachRecord(in: seq) { onDisk[$1.id] = $1 } }
        #expect(onDisk.count == 45)
        for record in expired {
            let stored = try #require(onDisk[record.id])
            #expect(!stored.logged && stored.requestBody.isEmpty && stored.metadata.isEmpty && stored.path.isEmpty)
            #expect(stored.usage == record.usage && stored.durationMicros == record.durationMicros)
        }
        for record in kept { #expect(onDisk[record.id] == record) }

        // A restart replays nothing twice, and a rollup rebuild from the segments gives the same usage.
        let restarted = try await GatewayHarness.start(dataDirectory: directory) { Self.configure(&$0, now: now) }
        #expect(try await totals(restarted, now: now) == usageBefore)
        try restarted.gateway.ledger.catchUp(restarted.gateway.store, rebuild: true)
        #expect(try await totals(restarted, now: now) == usageBefore)
        #expect(Set(try await listedIDs(restarted)) == Set(kept.map(\.id.description)))
        try await restarted.stop()
    }

    /// `POST /api/v1/compact` on a live gateway: expired logs leave the index, segments holding only expired logs
    /// are dropped whole, and usage — also after a rollup rebuild — stays what it was.
    @Test func aPassRequestedThroughTheAPIDropsSegmentsWhoseLogsAllExpired() async throws {
        let now = TollgateClock.system.wallMilliseconds()
        let harness = try await GatewayHarness.start { Self.configure(&$0, now: now) }
        defer { Task { try? await harness.stop() } }
        let store = harness.gateway.store
        // 60 logs 40 days old (several small segments of their own), then 20 from now.
        let expired = (0..<60).map { record(at: now - 40 * Self.day + Int64($0), $0) }
        let kept = (0..<20).map { record(at: now - 1000 + Int64($0), $0) }
        try store.append(expired)
        try store.commit()
        try store.append(kept)
        try store.commit()
        let usageBefore = try await totals(harness, now: now)
        #expect(usageBefore["requests"] as? Int == 80)

        #expect(try await harness.api("POST", "/api/v1/compact?account=nobody").status == 404)
        let pass = try await harness.api("POST", "/api/v1/compact")
        #expect(pass.status == 200, "\(pass.text)")
        let result = try pass.json()
        #expect(result["expired"] as? Int == expired.count)
        let dropped = try #require(result["segments_dropped"] as? Int)
        #expect(dropped >= 2)
        #expect((result["logs_purged"] as? Int ?? 0) >= dropped)
        #expect((result["bytes_after"] as? Int ?? .max) < (result["bytes_before"] as? Int ?? 0))
        let archives = try FileManager.default.contentsOfDirectory(atPath: harness.dataDirectory + "/usage")
        #expect(archives.filter { $0.hasSuffix(".usage") }.count == dropped)
        #expect(Set(try await listedIDs(harness)) == Set(kept.map(\.id.description)))
        #expect(try await totals(harness, now: now) == usageBefore)
        // A second pass finds nothing new to drop.
        let again = try await harness.api("POST", "/api/v1/compact").json()
        #expect(again["expired"] as? Int == 0 && again["segments_dropped"] as? Int == 0)
        try harness.gateway.ledger.catchUp(store, rebuild: true)
        #expect(try await totals(harness, now: now) == usageBefore)
        try await harness.stop()
    }

    @Test func retentionFollowsTheTierDefaultOrTheGivenDays() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let now = TollgateClock.system.wallMilliseconds()
        let store = try LogStore(directory: directory, logger: .init(label: "test") { _ in SwiftLogNoOpLogHandler() })
        _ = try store.catalog.createAccount(id: "acme", tier: .paid)
        var records: [LogRecord] = []
        for age in [100, 40, 5] as [Int64] {
            for account in ["default", "acme"] {
                var r = record(at: now - age * Self.day, Int(age))
                r.account = account
                r.id = ids.next(millisecondsSinceEpoch: r.createdAt)
                records.append(r)
            }
        }
        try store.append(records)
        try store.commit()
        // Ids are made in time order (a generator never goes back). default (free): 30 days; acme (paid): 90.
        #expect(try store.applyRetention(now: now) == 3)
        #expect(try store.applyRetention(now: now, account: "acme", days: 1) == 2)
        try store.close()
    }

    @Test func aGatewaysRetentionOverridesItsAccounts() throws {
        let directory = makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let now = TollgateClock.system.wallMilliseconds()
        let store = try LogStore(directory: directory, logger: .init(label: "test") { _ in SwiftLogNoOpLogHandler() })
        _ = try store.catalog.createGateway(account: "default", id: "short")
        let updated = try store.catalog.updateGateway(account: "default", id: "short", retentionDays: 5)
        #expect(updated?.retentionDays == 5)
        // Ten days old: past the gateway's 5 days, within the account's 30 (free tier).
        var short = record(at: now - 10 * Self.day, 1)
        short.gateway = "short"
        let kept = record(at: now - 10 * Self.day + 1, 2)
        try store.append([short, kept])
        try store.commit()
        #expect(try store.applyRetention(now: now) == 1)
        let listed = try store.catalog.listLogs(LogQuery(account: "default", limit: 10)).entries.map(\.id)
        #expect(listed == [kept.id])
        // Back to the account's retention.
        #expect(
            try store.catalog.updateGateway(account: "default", id: "short", retentionDays: .some(nil))?.retentionDays
                == nil)
        try store.close()
    }
}
