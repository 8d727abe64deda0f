import NIOHTTP1
import Synchronization
import Testing
import TollgateAnalytics
import TollgateModel

@testable import TollgateGateway

/// A clock the test moves by hand.
final class ManualClock: Sendable {
    private let instant: Mutex<Int64>
    init(_ start: Int64) { instant = Mutex(start) }
    var now: Int64 { instant.withLock { $0 } }
    func advance(by milliseconds: Int64) { instant.withLock { $0 += milliseconds } }
    var read: @Sendable () -> Int64 { { self.now } }
}

/// The pure parts of the gateway controls — budget windows, rate limits, spend limits, retry policy, cache keys —
/// with an injected clock and no I/O.
struct BudgetWindowTests {
    @Test func fixedWindowsStartAgainAtEachMultipleOfTheLength() {
        var window = BudgetWindow(lengthMilliseconds: 10_000, technique: .fixed)
        let start: Int64 = 1_700_000_000_000  // a multiple of 10 s
        for i in 0..<3 { #expect(window.take(1, limit: 3, at: start + Int64(i) * 1000) == .room) }
        #expect(window.take(1, limit: 3, at: start + 4_000) == .full(retryAfterMilliseconds: 6_000))
        #expect(window.take(1, limit: 3, at: start + 9_999) == .full(retryAfterMilliseconds: 1))
        #expect(window.take(1, limit: 3, at: start + 10_000) == .room)
        #expect(window.spent(at: start + 10_001) == 1)
        // A raised limit applies to what was already counted.
        #expect(window.take(1, limit: 2, at: start + 10_002) == .room)
        #expect(window.take(1, limit: 2, at: start + 10_003) == .full(retryAfterMilliseconds: 9_997))
        #expect(!window.isIdle(at: start + 19_999))
        #expect(window.isIdle(at: start + 20_000))
    }

    /// Random traffic against a sliding window, checked against the exact record of what was admitted: no interval
    /// ever holds more than the limit, a refusal is never more than one slot early, and the retry time it gives is
    /// when a request passes.
    @Test func slidingWindowNeverHoldsMoreThanTheLimitInAnyInterval() {
        var random = SplitMix64(seed: 42)
        for (limit, seconds) in [(5, 1), (50, 10), (7, 60), (1, 3)] {
            let length = Int64(seconds) * 1000
            let slot = (length + 63) / 64
            var window = BudgetWindow(lengthMilliseconds: length, technique: .sliding)
            var admitted: [Int64] = []
            var now: Int64 = 1_700_000_000_123
            var refusals = 0
            for _ in 0..<3000 {
                // Twice the limit's rate on average, so that the limit is reached again and again.
                now += Int64(random.next() % UInt64(max(1, length / Int64(limit))))
                let inWindow = admitted.filter { $0 > now - length }.count
                switch window.take(1, limit: Int64(limit), at: now) {
                case .room:
                    #expect(inWindow < limit, "admitted over the limit at \(now)")
                    admitted.append(now)
                case .full(let retryAfter):
                    refusals += 1
                    // Refused only when the limit is reached within the interval widened by one slot.
                    let widened = admitted.filter { $0 > now - length - slot }.count
                    #expect(widened >= limit, "refused early at \(now)")
                    // At the retry time a request passes (a copy, so the real window is unchanged).
                    var probe = window
                    #expect(probe.take(1, limit: Int64(limit), at: now + retryAfter) == .room)
                    #expect(retryAfter >= 1 && retryAfter <= length + slot)
                }
            }
            #expect(refusals > 0 && admitted.count > limit, "limit \(limit): the traffic must reach the limit")
        }
    }

    @Test func spendIsSummedAndRoomComesBackAsItLeavesTheWindow() {
        var window = BudgetWindow(lengthMilliseconds: 64_000, technique: .sliding)
        let t: Int64 = 1_000_000_000_000
        window.add(600, at: t)
        window.add(500, at: t + 10_000)
        #expect(window.spent(at: t + 10_000) == 1100)
        #expect(window.check(limit: 1000, at: t + 20_000) == .full(retryAfterMilliseconds: 64_000 + 999 - 20_000))
        #expect(window.check(limit: 1200, at: t + 20_000) == .room)
        #expect(window.spent(at: t + 64_999) == 500)
        #expect(window.check(limit: 1000, at: t + 64_999) == .room)
        #expect(window.isIdle(at: t + 75_000))
    }
}

struct RateLimiterTests {
    @Test func concurrentRequestsAreCountedExactly() async {
        let clock = ManualClock(1_700_000_000_000)
        let limiter = RateLimiter(now: clock.read)
        let limit = RateLimit(limit: 50, interval: 60, technique: .sliding)
        let admitted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 {
                group.addTask { limiter.admit(limit, .init(account: "a", gateway: "g")) == .room }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(admitted == 50)
        // Another budget (another key of the same gateway) has its own room.
        #expect(limiter.admit(limit, .init(account: "a", gateway: "g", key: "user-2")) == .room)
        guard case .full(let retryAfter) = limiter.admit(limit, .init(account: "a", gateway: "g")) else {
            Issue.record("the 201st request must be refused")
            return
        }
        clock.advance(by: retryAfter)
        #expect(limiter.admit(limit, .init(account: "a", gateway: "g")) == .room)
    }

    @Test func idleBudgetsAreForgotten() {
        let clock = ManualClock(1_700_000_000_000)
        let limiter = RateLimiter(now: clock.read, pruneEvery: 10)
        let limit = RateLimit(limit: 1, interval: 1, technique: .fixed, key: .metadata("user"))
        for user in 0..<9 { _ = limiter.admit(limit, .init(account: "a", gateway: "g", key: "u\(user)")) }
        #expect(limiter.budgetCount == 9)
        clock.advance(by: 5_000)
        _ = limiter.admit(limit, .init(account: "a", gateway: "g", key: "u0"))
        #expect(limiter.budgetCount == 1)
    }

    @Test func keysAreWrittenAsTheSettingIs() {
        #expect(RateLimit.Key(settingValue: nil) == .gateway)
        #expect(RateLimit.Key(settingValue: "token") == .token)
        #expect(RateLimit.Key(settingValue: "metadata.user") == .metadata("user"))
        #expect(RateLimit.Key(settingValue: "metadata.") == nil)
        #expect(RateLimit.Key(settingValue: "tokens") == nil)
        #expect(RateLimit.Key.metadata("team").settingValue == "metadata.team")
    }
}

struct RetryPolicyTests {
    @Test func waitsGrowByBackoffAndStopWhenAttemptsAreUsed() {
        let constant = RetryPolicy(maxAttempts: 4, delay: 100, backoff: .constant)
        let linear = RetryPolicy(maxAttempts: 4, delay: 100, backoff: .linear)
        let exponential = RetryPolicy(maxAttempts: 4, delay: 100, backoff: .exponential)
        #expect((1...4).map { constant.wait(afterAttempt: $0, failure: .status(503)) } == [100, 100, 100, nil])
        #expect((1...4).map { linear.wait(afterAttempt: $0, failure: .timeout) } == [100, 200, 300, nil])
        #expect((1...4).map { exponential.wait(afterAttempt: $0, failure: .connection) } == [100, 200, 400, nil])
        #expect(RetryPolicy.none.wait(afterAttempt: 1, failure: .status(500)) == nil)
    }

    @Test func onlyTransientFailuresAreRetried() {
        let policy = RetryPolicy(maxAttempts: 3, delay: 0, backoff: .constant)
        for status in [429, 500, 502, 503, 504, 529] {
            #expect(policy.wait(afterAttempt: 1, failure: .status(status)) == 0, "\(status)")
        }
        for status in [400, 401, 403, 404, 413, 422, 501] {
            #expect(policy.wait(afterAttempt: 1, failure: .status(status)) == nil, "\(status)")
        }
    }

    @Test func retryAfterIsHonouredUpToFiveSeconds() {
        let policy = RetryPolicy(maxAttempts: 2, delay: 200, backoff: .constant)
        #expect(policy.wait(afterAttempt: 1, failure: .status(429), retryAfter: 1_000) == 1_000)
        #expect(policy.wait(afterAttempt: 1, failure: .status(429), retryAfter: 60_000) == 5_000)
        #expect(policy.wait(afterAttempt: 1, failure: .status(429), retryAfter: 50) == 200)
        let now = HTTPDate.parse("Sun, 06 Nov 1994 08:49:37 GMT")!
        #expect(now == 784_111_777_000)
        #expect(RetryPolicy.retryAfterMilliseconds("3", now: now) == 3_000)
        #expect(RetryPolicy.retryAfterMilliseconds("Sun, 06 Nov 1994 08:49:40 GMT", now: now) == 3_000)
        #expect(RetryPolicy.retryAfterMilliseconds("Sun, 06 Nov 1994 08:49:30 GMT", now: now) == 0)
        #expect(RetryPolicy.retryAfterMilliseconds("soon", now: now) == nil)
        #expect(RetryPolicy.retryAfterMilliseconds("-1", now: now) == nil)
        #expect(HTTPDate.format(milliseconds: now + 999) == "Sun, 06 Nov 1994 08:49:37 GMT")
        #expect(HTTPDate.format(milliseconds: 0) == "Thu, 01 Jan 1970 00:00:00 GMT")
    }
}

struct SpendLimitsTests {
    static func parse(_ text: String) throws -> SpendLimits {
        let json = try JSONParser.parse(Array(text.utf8), options: [.rejectDuplicateKeys, .rejectInexactNumbers])
        return try SpendLimits(json: json)
    }

    static func error(_ text: String) -> SpendLimitsError? {
        do {
            _ = try parse(text)
            return nil
        } catch let error as SpendLimitsError {
            return error
        } catch {
            return SpendLimitsError(path: "", message: "\(error)")
        }
    }

    @Test func cloudflareShapeIsReadExactlyAndWrittenBack() throws {
        let limits = try Self.parse(
            #"""
            {"enabled":true,"rules":[
              {"id":"daily","limit":10.5,"limitType":"cost","window":86400,"technique":"fixed"},
              {"limit":"0.000000000001","window":3600,"technique":"sliding",
               "metadata":{"user":{"mode":"partition"}},"model":{"mode":"filter","values":["gpt-5-mini"]},
               "enabled":false}
            ]}
            """#)
        #expect(limits.rules.count == 2)
        #expect(limits.rules[0].limit == Money(picodollars: 10_500_000_000_000))
        #expect(limits.rules[1].id == "rule-2" && limits.rules[1].limit.picodollars == 1)
        #expect(limits.rules[1].metadata == ["user": .partition] && !limits.rules[1].enabled)
        // Written back and read again, it is the same setting.
        #expect(try Self.parse(limits.json) == limits)
        #expect(limits.json.contains(#""limit":10.5,"limitType":"cost""#))
    }

    @Test func badSettingsNameThePathAtFault() {
        let cases: [(String, String)] = [
            (#"{"rules":[{"limit":1,"window":60,"windw":5}]}"#, "spend_limits.rules[0].windw"),
            (#"{"rules":[{"window":60}]}"#, "spend_limits.rules[0].limit"),
            (#"{"rules":[{"limit":-1,"window":60}]}"#, "spend_limits.rules[0].limit"),
            (#"{"rules":[{"limit":1,"window":0}]}"#, "spend_limits.rules[0].window"),
            (#"{"rules":[{"limit":1,"window":60,"technique":"rolling"}]}"#, "spend_limits.rules[0].technique"),
            (#"{"rules":[{"limit":1,"window":60,"limitType":"requests"}]}"#, "spend_limits.rules[0].limitType"),
            (#"{"rules":[{"limit":1,"window":60,"model":{"mode":"filter"}}]}"#, "spend_limits.rules[0].model.values"),
            (
                #"{"rules":[{"limit":1,"window":60,"metadata":{"u":{"mode":"split"}}}]}"#,
                "spend_limits.rules[0].metadata.u.mode"
            ),
            (
                #"{"rules":[{"id":"a","limit":1,"window":60},{"id":"a","limit":1,"window":60}]}"#,
                "spend_limits.rules[1].id"
            ),
            (#"{"rule":[]}"#, "spend_limits.rule"),
        ]
        for (text, path) in cases { #expect(Self.error(text)?.path == path, "\(text)") }
        let tooMany = "{\"rules\":[" + (0..<21).map { _ in #"{"limit":1,"window":60}"# }.joined(separator: ",") + "]}"
        #expect(Self.error(tooMany)?.path == "spend_limits.rules")
        // A limit a float would round is refused, not rounded.
        #expect(Self.error(#"{"rules":[{"limit":0.30000000000000001,"window":60}]}"#) != nil)
    }

    @Test func rulesMatchByFilterAndKeepOneBudgetPerPartition() throws {
        let limits = try Self.parse(
            #"{"rules":[{"id":"team","limit":1,"window":60,"metadata":{"team":{"mode":"partition"}},"#
                + #""provider":{"mode":"filter","values":["openai"]}}]}"#)
        let a = SpendLimits.Request(provider: "openai", model: "m", metadata: ["team": "a"])
        #expect(limits.budgets(for: a).map(\.partition) == [["a"]])
        #expect(limits.budgets(for: .init(provider: "anthropic", model: "m", metadata: ["team": "a"])).isEmpty)
        #expect(limits.budgets(for: .init(provider: "openai", model: "m")).map(\.partition) == [[""]])
    }

    /// Spend counts when a cost is known; a limit is passed by at most the requests admitted while there was room.
    @Test func overshootIsBoundedByTheRequestsInFlight() throws {
        let clock = ManualClock(1_700_000_000_000)
        let ledger = SpendLedger(now: clock.read)
        let limits = try Self.parse(#"{"rules":[{"id":"cap","limit":"0.01","window":3600}]}"#)
        let request = SpendLimits.Request(provider: "openai", model: "gpt-5-mini")
        let cost = Money(picodollars: 3_000_000_000)  // $0.003
        // Eight requests start together: all admitted while nothing is spent.
        let inFlight = (0..<8).map { _ in ledger.admit(limits, account: "a", gateway: "g", request) }
        #expect(inFlight.allSatisfy { $0 == nil })
        for _ in inFlight { ledger.record(cost, limits, account: "a", gateway: "g", request) }
        let spent = try #require(ledger.status(limits, account: "a", gateway: "g").first).spent
        #expect(spent == Money(picodollars: 8 * 3_000_000_000))
        #expect(spent <= limits.rules[0].limit + Money(picodollars: 8 * cost.picodollars))
        // Now full: refused until the window ends.
        let refusal = try #require(ledger.admit(limits, account: "a", gateway: "g", request))
        #expect(refusal.rule == "cap" && refusal.retryAfterMilliseconds == 3_600_000 - 1_700_000_000_000 % 3_600_000)
        clock.advance(by: refusal.retryAfterMilliseconds)
        #expect(ledger.admit(limits, account: "a", gateway: "g", request) == nil)
    }
}

struct CacheKeyTests {
    static func key(
        account: String = "a", gateway: String = "g", credentials: [String] = ["Bearer sk-1"], body: String = "{}"
    ) -> CacheKey {
        CacheKey(
            account: account, gateway: gateway, provider: "openai", method: "POST",
            pathAndQuery: "/chat/completions", credentials: credentials, body: Array(body.utf8))
    }

    @Test func sameRequestSameKeyAndAnyDifferenceAnother() {
        #expect(Self.key() == Self.key())
        #expect(Self.key().description.count == 64)
        #expect(Self.key(credentials: ["Bearer sk-2"]) != Self.key())
        #expect(Self.key(credentials: []) != Self.key())
        #expect(Self.key(body: "{ }") != Self.key())
        // Field boundaries count: "ab"+"c" is not "a"+"bc".
        #expect(Self.key(account: "ab", gateway: "c") != Self.key(account: "a", gateway: "bc"))
        let client = CacheKey(account: "a", gateway: "g", clientKey: "k")
        #expect(client == CacheKey(account: "a", gateway: "g", clientKey: "k"))
        #expect(client != CacheKey(account: "b", gateway: "g", clientKey: "k"))
    }
}

struct RequestControlsTests {
    static let gateway = GatewayPolicy(
        cacheTTL: 600, retry: RetryPolicy(maxAttempts: 2, delay: 100, backoff: .linear), requestTimeout: 5_000)

    @Test func headersOverrideTheGatewaysSettings() throws {
        let plain = try RequestControls(HTTPHeaders(), policy: Self.gateway)
        #expect(plain.cacheTTL == 600 && plain.retry == Self.gateway.retry && plain.requestTimeout == 5_000)
        let overridden = try RequestControls(
            HTTPHeaders([
                ("cf-aig-cache-ttl", "120"), ("cf-aig-max-attempts", "5"), ("cf-aig-retry-delay", "0"),
                ("cf-aig-backoff", "exponential"), ("cf-aig-request-timeout", " 250 "),
            ]), policy: Self.gateway)
        #expect(overridden.cacheTTL == 120 && overridden.requestTimeout == 250)
        #expect(overridden.retry == RetryPolicy(maxAttempts: 5, delay: 0, backoff: .exponential))
        // Skipping the cache wins; a client key turns caching on for 300 s on a gateway without caching.
        #expect(try RequestControls(HTTPHeaders([("cf-aig-skip-cache", "true")]), policy: Self.gateway).cacheTTL == nil)
        let keyed = try RequestControls(HTTPHeaders([("cf-aig-cache-key", "greeting")]), policy: .none)
        #expect(keyed.cacheTTL == 300 && keyed.cacheKey == "greeting")
        #expect(try RequestControls(HTTPHeaders(), policy: .none).cacheTTL == nil)
    }

    @Test func badHeadersAreNamed() {
        let cases: [(String, String)] = [
            ("cf-aig-cache-ttl", "59"), ("cf-aig-cache-ttl", "2592001"), ("cf-aig-skip-cache", "yes"),
            ("cf-aig-max-attempts", "0"), ("cf-aig-max-attempts", "6"), ("cf-aig-retry-delay", "5001"),
            ("cf-aig-backoff", "fibonacci"), ("cf-aig-request-timeout", "0"), ("cf-aig-cache-key", ""),
        ]
        for (name, value) in cases {
            #expect(throws: RequestControls.Failure.self, "\(name): \(value)") {
                try RequestControls(HTTPHeaders([(name, value)]), policy: Self.gateway)
            }
        }
        #expect(throws: RequestControls.Failure(header: "cf-aig-max-attempts", message: "given more than once")) {
            try RequestControls(
                HTTPHeaders([("cf-aig-max-attempts", "2"), ("cf-aig-max-attempts", "3")]), policy: Self.gateway)
        }
    }
}

struct RecordSpendTests {
    /// A batch's records count against their own gateway's limits, the batch taking turns between gateways: the
    /// lookup is kept for a run of one gateway, never carried over to another's record.
    @Test func eachRecordCountsAgainstItsOwnGateway() {
        let dollar = SpendLimits(rules: [
            .init(id: "daily", limit: Money(picodollars: 1_000_000_000_000), window: 86_400)
        ])
        let directory = GatewayDirectory([
            GatewayDirectory.Entry(account: "acme", gateway: "open"),
            GatewayDirectory.Entry(account: "acme", gateway: "capped", policy: GatewayPolicy(spendLimits: dollar)),
        ])
        let controls = TrafficControls(now: { 1_800_000_000_000 })
        func record(_ gateway: String) -> LogRecord {
            LogRecord(
                id: LogID(high: 1, low: 1), createdAt: 1_800_000_000_000, account: "acme",
                gateway: gateway, provider: "openai", model: "gpt-5-mini", path: "/chat/completions",
                method: "POST", statusCode: 200, success: true, stream: false, durationMicros: 1_000,
                ttftMicros: nil, requestSize: 10, responseSize: 10)
        }
        // $0.60 each: the capped gateway's two records pass its dollar, the open gateway's are not counted there.
        let records = ["open", "capped", "capped", "open", "open"].map(record)
        controls.recordSpend(records, prices: Array(repeating: 600_000_000_000, count: 5), directory: directory)
        let request = SpendLimits.Request(provider: "openai", model: "gpt-5-mini")
        #expect(controls.spend.admit(dollar, account: "acme", gateway: "capped", request) != nil)
        #expect(controls.spend.admit(dollar, account: "acme", gateway: "open", request) == nil)
    }
}
