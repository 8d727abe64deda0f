import Foundation
import Logging
import NIOCore
import Synchronization
import Testing
import TollgateModel
import TollgateStorage

@testable import TollgateGateway

/// The response cache through the gateway against the mock provider: `cf-aig-cache-status` HIT and MISS, what is
/// stored and what is not, per-request headers, one upstream call for identical requests in flight, the settings,
/// restarts, damaged entries and the size bound.
@Suite(.serialized) struct CacheTests {
    static let body = #"{"model":"gpt-5-mini","messages":[{"role":"user","content":"hi"}]}"#
    static let path = "/v1/default/default/openai/chat/completions"

    static func send(
        _ harness: GatewayHarness, gateway: String = "default", body: String = Self.body,
        headers: [String: String] = [:]
    ) async throws -> GatewayHarness.HTTPResult {
        try await harness.request(
            "POST", "/v1/default/\(gateway)/openai/chat/completions",
            headers: ["Content-Type": "application/json"].merging(headers) { $1 }, body: Data(body.utf8))
    }

    /// Runs `body` against a gateway (and mock provider) started for it, and stops them after, also when `body`
    /// throws.
    static func running<T>(
        dataDirectory: String? = nil, configure: (inout GatewayApp.Configuration) -> Void = { _ in },
        _ body: (GatewayHarness) async throws -> T
    ) async throws -> T {
        let harness = try await GatewayHarness.start(dataDirectory: dataDirectory, configure: configure)
        let result: T
        do {
            result = try await body(harness)
        } catch {
            try? await harness.stop()
            throw error
        }
        try await harness.stop()
        return result
    }

    static func createGateway(_ harness: GatewayHarness, _ json: String) async throws {
        let created = try await harness.api("POST", "/api/v1/accounts/default/gateways", json: json)
        #expect(created.status == 201, "\(created.text)")
    }

    /// Waits (bounded) until the cache holds `count` entries: a store runs on the cache's threads after the response.
    static func waitForEntries(_ harness: GatewayHarness, _ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while harness.gateway.cache.store.statistics.entries < count && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(harness.gateway.cache.store.statistics.entries >= count)
    }

    @Test func aRepeatedRequestIsAnsweredFromTheCacheWithoutTheProvider() async throws {
        try await Self.running { harness in
            try await Self.createGateway(harness, #"{"id":"cached","cache_ttl":600}"#)
            let first = try await Self.send(harness, gateway: "cached")
            #expect(first.status == 200)
            #expect(first.headers["cf-aig-cache-status"] == "MISS")
            try await Self.waitForEntries(harness, 1)
            let calls = harness.mock.requestCount
            let second = try await Self.send(harness, gateway: "cached")
            #expect(second.status == 200)
            #expect(second.headers["cf-aig-cache-status"] == "HIT")
            #expect(second.body == first.body, "the stored response, byte for byte")
            #expect(second.headers["content-type"] == first.headers["content-type"])
            #expect(second.headers["cf-aig-log-id"] != first.headers["cf-aig-log-id"], "a hit is its own log")
            #expect(harness.mock.requestCount == calls, "no provider call for a hit")
            // Another body is another request.
            let other = try await Self.send(harness, gateway: "cached", body: #"{"model":"gpt-5-mini","messages":[]}"#)
            #expect(other.headers["cf-aig-cache-status"] == "MISS")
            #expect(harness.mock.requestCount == calls + 1)
            // Without caching on the gateway the header is absent.
            let plain = try await Self.send(harness)
            #expect(plain.status == 200)
            #expect(plain.headers["cf-aig-cache-status"] == nil)
        }
    }

    @Test func skipCacheAndTheRequestsOwnKeyAndTTL() async throws {
        try await Self.running { harness in
            try await Self.createGateway(harness, #"{"id":"cached","cache_ttl":600}"#)
            _ = try await Self.send(harness, gateway: "cached")
            try await Self.waitForEntries(harness, 1)
            // Skipped: neither served nor stored, and no header.
            let calls = harness.mock.requestCount
            let skipped = try await Self.send(harness, gateway: "cached", headers: ["cf-aig-skip-cache": "true"])
            #expect(skipped.status == 200)
            #expect(skipped.headers["cf-aig-cache-status"] == nil)
            #expect(harness.mock.requestCount == calls + 1)
            // A key of the client's own turns caching on for a gateway without it, whatever the body.
            let keyed = try await Self.send(harness, headers: ["cf-aig-cache-key": "greeting"])
            #expect(keyed.headers["cf-aig-cache-status"] == "MISS")
            try await Self.waitForEntries(harness, 2)
            let sameKey = try await Self.send(
                harness, body: #"{"model":"gpt-5-mini","messages":[{"role":"user","content":"other"}]}"#,
                headers: ["cf-aig-cache-key": "greeting"])
            #expect(sameKey.headers["cf-aig-cache-status"] == "HIT")
            #expect(sameKey.body == keyed.body)
            #expect(harness.mock.requestCount == calls + 2)
        }
    }

    @Test func twoAPIKeysNeverShareAnEntry() async throws {
        try await Self.running { harness in
            try await Self.createGateway(harness, #"{"id":"cached","cache_ttl":600}"#)
            let ann = try await Self.send(harness, gateway: "cached", headers: ["Authorization": "Bearer sk-ann"])
            #expect(ann.headers["cf-aig-cache-status"] == "MISS")
            try await Self.waitForEntries(harness, 1)
            let bob = try await Self.send(harness, gateway: "cached", headers: ["Authorization": "Bearer sk-bob"])
            #expect(bob.headers["cf-aig-cache-status"] == "MISS")
            try await Self.waitForEntries(harness, 2)
            let annAgain = try await Self.send(harness, gateway: "cached", headers: ["Authorization": "Bearer sk-ann"])
            #expect(annAgain.headers["cf-aig-cache-status"] == "HIT")
            #expect(annAgain.body == ann.body)
        }
    }

    @Test func onlySuccessfulResponsesAreStored() async throws {
        try await Self.running { harness in
            try await Self.createGateway(harness, #"{"id":"cached","cache_ttl":600}"#)
            let failed = try await Self.send(harness, gateway: "cached", headers: ["x-mock-fault": "status=500"])
            #expect(failed.status == 500)
            #expect(failed.headers["cf-aig-cache-status"] == "MISS")
            let calls = harness.mock.requestCount
            let next = try await Self.send(harness, gateway: "cached")
            #expect(next.status == 200)
            #expect(next.headers["cf-aig-cache-status"] == "MISS", "the 500 was not stored")
            #expect(harness.mock.requestCount == calls + 1)
            // The gateway's own answer to a request caching applied to says MISS too.
            let unreachable = try await Self.send(
                harness, gateway: "cached", body: #"{"model":"gpt-5-mini","messages":[]}"#,
                headers: ["x-mock-fault": "close"])
            #expect(unreachable.status == 502)
            #expect(unreachable.headers["cf-aig-cache-status"] == "MISS")
        }
    }

    @Test func anEntryExpiresAfterItsTTLOnTheInjectedClock() async throws {
        let clock = Atomic<Int64>(1_800_000_000_000)
        try await Self.running(configure: {
            $0.clock = TollgateClock(wallMilliseconds: { clock.load(ordering: .relaxed) })
        }) { harness in
            let ttl = ["cf-aig-cache-ttl": "60"]
            #expect(try await Self.send(harness, headers: ttl).headers["cf-aig-cache-status"] == "MISS")
            try await Self.waitForEntries(harness, 1)
            clock.add(59_999, ordering: .relaxed)
            #expect(try await Self.send(harness, headers: ttl).headers["cf-aig-cache-status"] == "HIT")
            clock.add(1, ordering: .relaxed)
            let calls = harness.mock.requestCount
            #expect(try await Self.send(harness, headers: ttl).headers["cf-aig-cache-status"] == "MISS")
            #expect(harness.mock.requestCount == calls + 1)
            // The sweep removes what expired.
            try await Self.waitForEntries(harness, 1)
            clock.add(61_000, ordering: .relaxed)
            #expect(try await harness.gateway.cache.sweep() == 1)
            #expect(harness.gateway.cache.store.statistics.entries == 0)
        }
    }

    /// Whether no request is in flight within 2 s: the last response part reaches the client before the entry is
    /// stored and its flight ends.
    static func flightsEnd(_ harness: GatewayHarness) async -> Bool {
        for _ in 0..<200 {
            if harness.gateway.cache.flights.count == 0 { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return harness.gateway.cache.flights.count == 0
    }

    @Test func concurrentIdenticalRequestsMakeOneUpstreamCall() async throws {
        try await Self.running { harness in
            try await Self.createGateway(harness, #"{"id":"cached","cache_ttl":600}"#)
            let calls = harness.mock.requestCount
            // The provider takes 500 ms: the others arrive while the first is in flight.
            let results = try await withThrowingTaskGroup(of: GatewayHarness.HTTPResult.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        try await Self.send(harness, gateway: "cached", headers: ["x-mock-fault": "delay-ms=500"])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(harness.mock.requestCount == calls + 1)
            #expect(results.allSatisfy { $0.status == 200 })
            #expect(results.filter { $0.headers["cf-aig-cache-status"] == "MISS" }.count == 1)
            #expect(results.filter { $0.headers["cf-aig-cache-status"] == "HIT" }.count == 7)
            #expect(Set(results.map(\.body)).count == 1, "every one got the one response")
            #expect(await Self.flightsEnd(harness), "the flight ends once its response is stored")
        }
    }

    @Test func whenTheRequestInFlightFailsTheWaitersGoUpstream() async throws {
        try await Self.running { harness in
            try await Self.createGateway(harness, #"{"id":"cached","cache_ttl":600}"#)
            let calls = harness.mock.requestCount
            let results = try await withThrowingTaskGroup(of: GatewayHarness.HTTPResult.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await Self.send(
                            harness, gateway: "cached", headers: ["x-mock-fault": "delay-ms=300,status=503"])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.allSatisfy { $0.status == 503 && $0.headers["cf-aig-cache-status"] == "MISS" })
            #expect(harness.mock.requestCount == calls + 4)
            #expect(await Self.flightsEnd(harness))
        }
    }

    @Test func settingsAreReadWrittenAndChecked() async throws {
        try await Self.running { harness in
            try await Self.createGateway(harness, #"{"id":"g","cache_ttl":300,"cache_invalidate_on_update":true}"#)
            var shown = try await harness.api("/api/v1/accounts/default/gateways/g").json()
            #expect(shown["cache_ttl"] as? Int == 300)
            #expect(shown["cache_invalidate_on_update"] as? Bool == true)
            let cleared = try await harness.api(
                "PATCH", "/api/v1/accounts/default/gateways/g",
                json: #"{"cache_ttl":null,"cache_invalidate_on_update":null}"#)
            #expect(cleared.status == 200, "\(cleared.text)")
            shown = try cleared.json()
            #expect(shown["cache_ttl"] is NSNull)
            #expect(shown["cache_invalidate_on_update"] as? Bool == false)
            for (field, value) in [
                ("cache_ttl", "-1"), ("cache_ttl", "2592001"), ("cache_ttl", #""soon""#),
                ("cache_invalidate_on_update", #""maybe""#),
            ] {
                let refused = try await harness.api(
                    "PATCH", "/api/v1/accounts/default/gateways/g", json: #"{"\#(field)":\#(value)}"#)
                #expect(refused.status == 400, "\(field): \(value)")
                #expect(refused.text.contains(field), "\(refused.text)")
            }
        }
    }

    @Test func changedSettingsClearTheGatewaysEntriesWhenAskedTo() async throws {
        try await Self.running { harness in
            try await Self.createGateway(harness, #"{"id":"fresh","cache_ttl":600,"cache_invalidate_on_update":true}"#)
            try await Self.createGateway(harness, #"{"id":"kept","cache_ttl":600}"#)
            for gateway in ["fresh", "kept"] { _ = try await Self.send(harness, gateway: gateway) }
            try await Self.waitForEntries(harness, 2)
            for gateway in ["fresh", "kept"] {
                #expect(try await Self.send(harness, gateway: gateway).headers["cf-aig-cache-status"] == "HIT")
                let changed = try await harness.api(
                    "PATCH", "/api/v1/accounts/default/gateways/\(gateway)", json: #"{"cache_ttl":900}"#)
                #expect(changed.status == 200)
            }
            #expect(try await Self.send(harness, gateway: "fresh").headers["cf-aig-cache-status"] == "MISS")
            #expect(try await Self.send(harness, gateway: "kept").headers["cf-aig-cache-status"] == "HIT")
        }
    }

    @Test func entriesSurviveARestartAndADamagedOneIsNeverServed() async throws {
        let data = makeTemporaryDirectory()
        let key = ["cf-aig-cache-key": "kept"]
        let original = try await Self.running(dataDirectory: data) { first in
            let original = try await Self.send(first, headers: key)
            #expect(original.headers["cf-aig-cache-status"] == "MISS")
            _ = try await Self.send(first, headers: ["cf-aig-cache-key": "damaged"])
            try await Self.waitForEntries(first, 2)
            return original
        }

        // Tear one entry as a crash mid-write would (its other bytes intact).
        let damagedKey = CacheKey(account: "default", gateway: "default", clientKey: "damaged")
        let path = data + "/cache/\(damagedKey).entry"
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes.removeLast(7)
        try bytes.write(to: URL(fileURLWithPath: path))

        // Every hit reads its file (no entries kept in memory), as after a restart.
        try await Self.running(dataDirectory: data, configure: { $0.cache.memoryBytes = 0 }) { second in
            let kept = try await Self.send(second, headers: key)
            #expect(kept.headers["cf-aig-cache-status"] == "HIT")
            #expect(kept.body == original.body)
            #expect(second.mock.requestCount == 0)
            let damaged = try await Self.send(second, headers: ["cf-aig-cache-key": "damaged"])
            #expect(damaged.status == 200)
            #expect(damaged.headers["cf-aig-cache-status"] == "MISS")
            #expect(second.mock.requestCount == 1)
            #expect(second.gateway.cache.store.statistics.discarded == 1)

            // Damaged while running: the lookup finds it out and goes upstream.
            try await Self.waitForEntries(second, 2)
            var live = try Data(contentsOf: URL(fileURLWithPath: path))
            live[live.count - 3] ^= 0xFF
            try live.write(to: URL(fileURLWithPath: path))
            let again = try await Self.send(second, headers: ["cf-aig-cache-key": "damaged"])
            #expect(again.status == 200)
            #expect(again.headers["cf-aig-cache-status"] == "MISS")
            #expect(second.mock.requestCount == 2)
        }
    }

    @Test func theCacheStaysWithinItsBoundEvictingTheLeastRecentlyUsed() async throws {
        try await Self.running(configure: { $0.cache.maxBytes = 8 << 10 }) { harness in
            for index in 0..<20 {
                _ = try await Self.send(harness, headers: ["cf-aig-cache-key": "k\(index)"])
                // Stored (and what it pushed out evicted) before the next.
                let deadline = ContinuousClock.now + .seconds(10)
                while ContinuousClock.now < deadline {
                    let statistics = harness.gateway.cache.store.statistics
                    if statistics.entries + statistics.evictions > index { break }
                    try await Task.sleep(for: .milliseconds(5))
                }
                #expect(harness.gateway.cache.store.statistics.bytes <= 8 << 10)
            }
            let statistics = harness.gateway.cache.store.statistics
            #expect(statistics.evictions > 0)
            #expect(statistics.entries < 20)
            // The newest is kept, the oldest went.
            #expect(
                try await Self.send(harness, headers: ["cf-aig-cache-key": "k19"]).headers["cf-aig-cache-status"]
                    == "HIT")
            #expect(
                try await Self.send(harness, headers: ["cf-aig-cache-key": "k0"]).headers["cf-aig-cache-status"]
                    == "MISS")
        }
    }

    @Test func aStreamedResponseIsMissedThenReplayedAsAStream() async throws {
        try await Self.running { harness in
            try await Self.createGateway(harness, #"{"id":"cached","cache_ttl":600}"#)
            let body = #"{"model":"gpt-5-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}"#
            let miss = try await Self.send(harness, gateway: "cached", body: body)
            #expect(miss.headers["cf-aig-cache-status"] == "MISS")
            #expect(miss.headers["content-type"]?.hasPrefix("text/event-stream") == true)
            try await Self.waitForEntries(harness, 1)
            let hit = try await Self.send(harness, gateway: "cached", body: body)
            #expect(hit.headers["cf-aig-cache-status"] == "HIT")
            #expect(hit.headers["content-type"]?.hasPrefix("text/event-stream") == true)
            #expect(hit.headers["content-length"] == nil, "a stream, not a sized body")
            #expect(hit.body == miss.body)
            #expect(hit.text.hasSuffix("data: [DONE]\n\n"))
        }
    }
}

/// The records of cached exchanges, and the stream replay with the gateway's usage option, in-process against a fake
/// upstream.
@Suite struct CacheRecordTests {
    static let json = [("content-type", "application/json")]

    @Test func aHitIsRecordedAsCachedWithTheOriginalResponseAndItsUsage() async throws {
        let upstream = try await FakeChatStream.upstream()
        defer { Task { await upstream.shutdown() } }
        let folder = makeTemporaryDirectory()
        let cache = try ResponseCaching(
            directory: folder + "/cache", logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        defer { Task { await cache.shutdown() } }
        let entry = GatewayDirectory.Entry(
            account: TestGateway.account, gateway: TestGateway.gateway, policy: GatewayPolicy(cacheTTL: 600))
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL + "/v1"], entries: [entry], cache: cache) {
            gateway in
            let path = TestGateway.path("openai", "/chat/completions")
            let miss = try await TestClient.with(port: gateway.port) { client in
                try await client.request(.POST, path, headers: Self.json, body: ProxyStreamUsageTests.streamBody)
            }
            #expect(miss.header("cf-aig-cache-status") == "MISS")
            // The client did not ask for usage: the usage-only chunk is kept from it, live and replayed.
            #expect(miss.text == FakeChatStream.withoutUsage)
            let deadline = ContinuousClock.now + .seconds(10)
            while cache.store.statistics.entries < 1 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            let hit = try await TestClient.with(port: gateway.port) { client in
                try await client.request(.POST, path, headers: Self.json, body: ProxyStreamUsageTests.streamBody)
            }
            #expect(hit.header("cf-aig-cache-status") == "HIT")
            #expect(hit.header("transfer-encoding") == "chunked")
            #expect(hit.header("content-type")?.hasPrefix("text/event-stream") == true)
            #expect(hit.text == FakeChatStream.withoutUsage)
            #expect(upstream.requests.count == 1, "one upstream call")

            let records = await gateway.sink.wait(for: 2)
            try #require(records.count == 2)
            let (first, second) = (records[0], records[1])
            #expect(!first.cached)
            #expect(second.cached)
            #expect(second.statusCode == 200)
            #expect(second.responseHeaders.contains { $0.name == "cf-aig-cache-status" && $0.value == "HIT" })
            // The upstream's bytes, usage chunk included, so the usage is the original response's.
            #expect(String(decoding: second.responseBody, as: UTF8.self) == FakeChatStream.withUsage)
            let usage = LogRecord(exchange: second, providers: .builtIn).usage
            #expect(usage.tokensIn == 11)
            #expect(usage.tokensOut == 2)
            #expect(second.error == nil)
        }
    }
}
