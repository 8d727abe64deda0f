import Foundation
import Glibc
import Synchronization
import Testing
import TollgateModel
import TollgateStorage

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The gateway on a data folder whose filesystem fills up under load and is then grown: the proxy keeps answering,
/// `/readyz` says 503 while the store cannot write and 200 once it can, the store goes on by itself, and what was
/// listed (durable) before the disk filled is still there.
@Suite(.serialized) struct DiskFullTests {
    /// 120 KB of random letters and digits: compresses by a quarter at most, so a 40 MB disk fills in a few hundred
    /// requests.
    static func incompressibleChatBody(seed: UInt64) -> Data {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        var text = [UInt8](repeating: 0, count: 120_000)
        for i in 0..<text.count {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            text[i] = alphabet[Int((state >> 33) % UInt64(alphabet.count))]
        }
        let content = String(decoding: text, as: UTF8.self)
        return Data(#"{"model":"gpt-5-mini","messages":[{"role":"user","content":"\#(content)"}]}"#.utf8)
    }

    /// Sends one chat completion through the proxy; returns its status and log id.
    static func send(_ harness: GatewayHarness, seed: UInt64) async throws -> (status: Int, logID: String?) {
        let result = try await harness.request(
            "POST", "/v1/default/default/openai/chat/completions",
            headers: ["Content-Type": "application/json", "Authorization": "Bearer sk-test-secret-value"],
            body: incompressibleChatBody(seed: seed))
        return (result.status, result.headers["cf-aig-log-id"])
    }

    /// The ids the catalog lists now: each of them was durable when listed.
    /// Every listed log id, read on a thread of its own: the catalog reads are synchronous and grow with the store,
    /// and on the cooperative pool they would hold up the other suites running beside this one.
    static func listedIDs(_ store: LogStore) async throws -> Set<String> {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try listing(store) }) }.start()
        }
    }

    static func listing(_ store: LogStore) throws -> Set<String> {
        var ids = Set<String>()
        var query = LogQuery(account: "default", order: .ascending, limit: 1000)
        while true {
            let page = try store.catalog.listLogs(query)
            for entry in page.entries { ids.insert(entry.id.description) }
            guard let next = page.nextCursor else { return ids }
            query.cursor = next
        }
    }

    // Mounting a tmpfs needs root (CI runs the tests as root). Elsewhere this test is reported as skipped, with the
    // reason below, rather than passing without having filled a disk.
    @Test(
        .enabled(
            if: TmpfsMount.isPossible,
            "cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): the full-disk test did not run"),
        .timeLimit(.minutes(5)))
    func aFullDiskIsSurvivedWithoutARestart() async throws {
        let disk = try TmpfsMount(size: "40m")
        defer { disk.unmount() }
        let harness = try await GatewayHarness.start(dataDirectory: disk.path + "/data") { c in
            c.store.retryInitialMillis = 100
            c.store.retryMaxMillis = 500
            c.store.segments.maxSegmentBytes = 8 << 20
        }
        defer { Task { try? await harness.stop() } }
        do {
            try await fillGrowAndCheck(harness, disk: disk)
        } catch {
            try? await harness.stop()
            throw error
        }
        try await harness.stop()
    }

    /// The same through injected faults, so it runs where no tmpfs can be mounted: every segment write fails until
    /// the fault is cleared.
    @Test func readinessAndIngestStateFollowInjectedWriteFaults() async throws {
        let faults = StorageFaults()
        let harness = try await GatewayHarness.start { c in
            c.store.segments.faults = faults
            c.store.retryInitialMillis = 50
            c.store.retryMaxMillis = 200
        }
        defer { Task { try? await harness.stop() } }
        do {
            try await followFaults(harness, faults: faults)
        } catch {
            try? await harness.stop()
            throw error
        }
        try await harness.stop()
    }

    /// A disk whose fsync takes seconds holds up the listing of logs, not the store's appends: exchanges do not
    /// pile up in memory behind a commit.
    @Test func aSlowFsyncDoesNotHoldUpAppends() async throws {
        let faults = StorageFaults()
        let harness = try await GatewayHarness.start { c in c.store.segments.faults = faults }
        defer { Task { try? await harness.stop() } }
        let store = harness.gateway.store
        func appended(atLeast count: Int, within limit: Duration) async throws -> Bool {
            let deadline = ContinuousClock.now + limit
            while store.statistics.recordsAppended < count && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            return store.statistics.recordsAppended >= count
        }
        faults.slow(.segmentSync, milliseconds: 2_000)
        #expect(try await Self.send(harness, seed: 1).status == 200)
        #expect(try await appended(atLeast: 1, within: .seconds(5)))
        // A commit begins within the commit interval and its fsync runs for two seconds.
        try await Task.sleep(for: .milliseconds(300))
        let committed = store.statistics.recordsCommitted
        for seed in 2...4 {
            #expect(try await Self.send(harness, seed: UInt64(seed)).status == 200)
        }
        #expect(try await appended(atLeast: 4, within: .milliseconds(1_000)))
        #expect(store.statistics.recordsCommitted == committed)
        faults.clear()
        _ = try await harness.waitForLogs(count: 4)
        #expect(try store.indexDisagreements() == [])
        try await harness.stop()
    }

    func followFaults(_ harness: GatewayHarness, faults: StorageFaults) async throws {
        let before = try await Self.send(harness, seed: 1)
        #expect(before.status == 200)
        _ = try await harness.waitForLogs(count: 1)
        let ready = try await harness.request("GET", "/readyz")
        #expect(ready.status == 200)
        #expect(try ready.json()["status"] as? String == "ready")
        #expect(try await harness.api("/api/v1/ingest").json()["state"] as? String == "writing")

        faults.fail(.segmentWrite, errno: ENOSPC)
        for seed in 2...4 {
            #expect(try await Self.send(harness, seed: UInt64(seed)).status == 200)
        }
        let deadline = ContinuousClock.now + .seconds(20)
        var notReady = try await harness.request("GET", "/readyz")
        while notReady.status != 503 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            notReady = try await harness.request("GET", "/readyz")
        }
        #expect(notReady.status == 503)
        let body = try notReady.json()
        #expect(body["status"] as? String == "store_cannot_write")
        #expect(body["reason"] as? String == "segment write: No space left on device")
        #expect(body["since"] is String)
        // The proxy keeps forwarding; the store keeps retrying.
        #expect(try await Self.send(harness, seed: 5).status == 200)
        #expect(try await harness.request("GET", "/healthz").status == 200)
        let ingest = try await harness.api("/api/v1/ingest").json()
        #expect(ingest["state"] as? String == "failing")
        #expect(ingest["failing_operation"] as? String == "segment write")
        #expect(ingest["failing_reason"] as? String == "No space left on device")
        #expect((ingest["attempts"] as? Int ?? 0) >= 1)
        #expect(ingest["next_retry_at"] is String)
        #expect((ingest["failed"] as? Int ?? 0) >= 1)
        let lastError = try #require(ingest["last_error"] as? [String: Any])
        #expect((lastError["message"] as? String)?.contains("pwrite") == true)

        // Space again: ready within the retry schedule, with no new request; later requests are stored.
        faults.clear()
        var readyAgain = try await harness.request("GET", "/readyz")
        while readyAgain.status != 200 && ContinuousClock.now < deadline + .seconds(20) {
            try await Task.sleep(for: .milliseconds(20))
            readyAgain = try await harness.request("GET", "/readyz")
        }
        #expect(readyAgain.status == 200)
        let after = try await Self.send(harness, seed: 6)
        #expect(after.status == 200)
        let afterID = try #require(after.logID)
        let listDeadline = ContinuousClock.now + .seconds(10)
        var ids = try await Self.listedIDs(harness.gateway.store)
        while !ids.contains(afterID) && ContinuousClock.now < listDeadline {
            try await Task.sleep(for: .milliseconds(20))
            ids = try await Self.listedIDs(harness.gateway.store)
        }
        #expect(ids.contains(afterID))
        #expect(ids.contains(try #require(before.logID)))
        #expect(try harness.gateway.store.indexDisagreements() == [])
        // The usage rollups count what is stored: the records lost to the failed writes were taken back.
        let usage = try await UsageReportTests.waitForUsage(harness, requests: ids.count)
        #expect((usage["totals"] as? [String: Any])?["requests"] as? Int == ids.count)
        let final = try await harness.api("/api/v1/ingest").json()
        #expect(final["state"] as? String == "writing")
        #expect(final["accepted"] as? Int == (final["stored"] as? Int ?? 0) + (final["failed"] as? Int ?? 0))
    }

    func fillGrowAndCheck(_ harness: GatewayHarness, disk: TmpfsMount) async throws {
        let store = harness.gateway.store
        var acknowledged = Set<String>()
        var readiness: [Int] = []
        var statuses: [Int: Int] = [:]
        var seed: UInt64 = 1
        var roundsAfterFull = 0
        var failingIngest: [String: Any]?
        let deadline = ContinuousClock.now + .seconds(180)

        // Fill: four requests at a time until the store has been unable to write for a few rounds. Bounded in
        // requests and time.
        for _ in 0..<400 where roundsAfterFull < 8 && ContinuousClock.now < deadline {
            let results = try await withThrowingTaskGroup(of: (status: Int, logID: String?).self) { group in
                for _ in 0..<4 {
                    let s = seed
                    seed += 1
                    group.addTask { try await Self.send(harness, seed: s) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            for result in results { statuses[result.status, default: 0] += 1 }
            acknowledged.formUnion(try await Self.listedIDs(store))
            let ready = try await harness.request("GET", "/readyz")
            readiness.append(ready.status)
            if ready.status == 503 {
                roundsAfterFull += 1
                let body = try ready.json()
                #expect(body["status"] as? String == "store_cannot_write")
                #expect((body["reason"] as? String)?.contains("No space left on device") == true)
                #expect((body["since"] as? String).flatMap { RFC3339.parse($0) } != nil)
                if failingIngest == nil { failingIngest = try await harness.api("/api/v1/ingest").json() }
            }
        }
        #expect(roundsAfterFull == 8, "the disk never filled: /readyz answered \(Set(readiness))")
        // The proxy kept forwarding while the store could not write.
        #expect(statuses == [200: statuses[200] ?? 0] && (statuses[200] ?? 0) > 0, "\(statuses)")
        let failing = try #require(failingIngest)
        #expect(failing["state"] as? String == "failing")
        #expect((failing["failed"] as? Int ?? 0) > 0)
        #expect((failing["failing_reason"] as? String)?.contains("No space left on device") == true)
        #expect(failing["failing_since"] is String)
        #expect((failing["last_error"] as? [String: Any])?["message"] is String)
        #expect(try await harness.request("GET", "/healthz").status == 200)

        // Grow the filesystem: the store retries on its own and is ready again, with no restart and no new request.
        try disk.resize("300m")
        let readyDeadline = ContinuousClock.now + .seconds(30)
        var ready = try await harness.request("GET", "/readyz")
        while ready.status != 200 && ContinuousClock.now < readyDeadline {
            try await Task.sleep(for: .milliseconds(50))
            ready = try await harness.request("GET", "/readyz")
        }
        #expect(ready.status == 200)
        #expect(try ready.json()["status"] as? String == "ready")
        readiness.append(ready.status)
        #expect(readiness.firstIndex(of: 503).map { readiness[$0...].contains(200) } == true)

        // Later records are stored and listed.
        var later: [String] = []
        for _ in 0..<20 {
            let result = try await Self.send(harness, seed: seed)
            seed += 1
            #expect(result.status == 200)
            if let id = result.logID { later.append(id) }
        }
        #expect(later.count == 20)
        let listDeadline = ContinuousClock.now + .seconds(30)
        var listed = try await Self.listedIDs(store)
        while !listed.isSuperset(of: later) && ContinuousClock.now < listDeadline {
            try await Task.sleep(for: .milliseconds(50))
            listed = try await Self.listedIDs(store)
        }
        #expect(listed.isSuperset(of: later))

        // Nothing acknowledged as durable was lost, and each reads back.
        #expect(listed.isSuperset(of: acknowledged))
        for id in acknowledged.union(later) {
            let logID = try #require(LogID(id))
            #expect(try store.record(account: "default", id: logID)?.id == logID)
        }
        for id in acknowledged.sorted().enumerated().filter({ $0.offset % 25 == 0 }).map(\.element) {
            #expect(try await harness.api("/api/v1/accounts/default/logs/\(id)").status == 200)
        }

        // The counters add up: every accepted exchange was stored (and listed) or counted as failed.
        let ingest = try await harness.api("/api/v1/ingest").json()
        #expect(ingest["state"] as? String == "writing")
        let stored = ingest["stored"] as? Int ?? -1
        let failed = ingest["failed"] as? Int ?? -1
        #expect(failed > 0)
        #expect(ingest["queued"] as? Int == 0)
        #expect(ingest["accepted"] as? Int == stored + failed)
        #expect(listed.count == stored)
        // The catalog agrees with the segments, and the usage rollups count what is stored.
        #expect(try store.indexDisagreements() == [])
        let usage = try await UsageReportTests.waitForUsage(harness, requests: listed.count)
        #expect((usage["totals"] as? [String: Any])?["requests"] as? Int == listed.count)
        print(
            "full disk: \(seed - 1) requests, \(acknowledged.count) listed before growing, \(failed) failed, "
                + "\(stored) stored; /readyz: \(readiness.filter { $0 == 503 }.count) × 503 then 200")
    }
}
