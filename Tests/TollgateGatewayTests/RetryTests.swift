import Foundation
import Testing

/// Retries through the gateway against the mock provider: `retry_max_attempts`, `retry_delay`, `retry_backoff` on
/// the gateway and `cf-aig-max-attempts`, `cf-aig-retry-delay`, `cf-aig-backoff` per request. A retried request
/// answers with its last attempt; every attempt is its own log, and they share one event id.
@Suite(.serialized) struct RetryTests {
    static let body = Data(#"{"model":"gpt-5-mini","messages":[{"role":"user","content":"hello there"}]}"#.utf8)

    static func send(
        _ harness: GatewayHarness, gateway: String = "default", headers: [String: String], body: Data = body
    ) async throws -> (GatewayHarness.HTTPResult, Duration) {
        let started = ContinuousClock.now
        let result = try await harness.request(
            "POST", "/v1/default/\(gateway)/openai/chat/completions",
            headers: ["Content-Type": "application/json"].merging(headers) { $1 }, body: body)
        return (result, ContinuousClock.now - started)
    }

    static func createRetrying(_ harness: GatewayHarness, _ id: String, settings: String) async throws {
        let created = try await harness.api(
            "POST", "/api/v1/accounts/default/gateways", json: #"{"id":"\#(id)",\#(settings)}"#)
        #expect(created.status == 201, "\(created.text)")
    }

    /// The logs of one gateway, oldest first.
    static func logs(_ harness: GatewayHarness, gateway: String, count: Int) async throws -> [[String: Any]] {
        let logs = try await harness.waitForLogs(query: "&gateway=\(gateway)", count: count)
        return logs.reversed()
    }

    @Test func failedAttemptsAreTriedAgainAndEachIsItsOwnLog() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        try await Self.createRetrying(
            harness, "retrying", settings: #""retry_max_attempts":3,"retry_delay":50,"retry_backoff":"constant""#)
        let settings = try await harness.api("/api/v1/accounts/default/gateways/retrying").json()
        #expect(settings["retry_max_attempts"] as? Int == 3)
        #expect(settings["retry_backoff"] as? String == "constant")
        let (response, _) = try await Self.send(
            harness, gateway: "retrying", headers: ["x-mock-fault": "status=503, fail-first=2", "x-mock-key": "a"])
        #expect(response.status == 200, "\(response.text)")
        #expect((try response.json()["choices"] as? [Any])?.isEmpty == false)
        let logs = try await Self.logs(harness, gateway: "retrying", count: 3)
        #expect(logs.map { $0["status_code"] as? Int } == [503, 503, 200])
        // The client sees the answering attempt's log id, and the event: the first attempt's log id.
        #expect(response.headers["cf-aig-log-id"] == logs.last?["id"] as? String)
        #expect(response.headers["cf-aig-event-id"] == logs.first?["id"] as? String)
        // The answering attempt alone carries usage.
        #expect((logs.last?["tokens_in"] as? Int ?? 0) > 0)
        // The logs say which attempt each was, and the event finds them all.
        #expect(logs.map { $0["attempt"] as? Int } == [1, 2, 3])
        let event = try #require(response.headers["cf-aig-event-id"])
        let attempts = try await harness.waitForLogs(query: "&event_id=\(event)", count: 3)
        #expect(attempts.count == 3)
        #expect(attempts.allSatisfy { $0["event_id"] as? String == event })
        try await harness.stop()
    }

    @Test func theLastAttemptsAnswerGoesToTheClient() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        // Per request: two attempts, both fail; the provider's own 503 reaches the client.
        let (response, _) = try await Self.send(
            harness,
            headers: [
                "cf-aig-max-attempts": "2", "cf-aig-retry-delay": "10", "x-mock-fault": "status=503, fail-first=5",
                "x-mock-key": "b",
            ])
        #expect(response.status == 503)
        let logs = try await Self.logs(harness, gateway: "default", count: 2)
        #expect(logs.count == 2)
        // Without retries configured, a failure is answered as it comes.
        let (once, _) = try await Self.send(
            harness, headers: ["x-mock-fault": "status=503, fail-first=1", "x-mock-key": "c"])
        #expect(once.status == 503)
        #expect(once.headers["cf-aig-event-id"] == nil)
        // Statuses a retry cannot help are not retried.
        let (bad, _) = try await Self.send(
            harness,
            headers: ["cf-aig-max-attempts": "3", "x-mock-fault": "status=400, fail-first=1", "x-mock-key": "d"])
        #expect(bad.status == 400)
        try await harness.stop()
    }

    @Test func theUpstreamsRetryAfterIsHonoured() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let (response, took) = try await Self.send(
            harness,
            headers: [
                "cf-aig-max-attempts": "2", "cf-aig-retry-delay": "0",
                "x-mock-fault": "status=429, retry-after=1, fail-first=1", "x-mock-key": "e",
            ])
        #expect(response.status == 200)
        #expect(took >= .seconds(1), "waited for the provider's Retry-After")
        try await harness.stop()
    }

    @Test func connectionErrorsAndTimeoutsAreRetried() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        // The provider closes the connection without answering, once.
        let (closed, _) = try await Self.send(
            harness, headers: ["cf-aig-max-attempts": "2", "x-mock-fault": "close, fail-first=1", "x-mock-key": "f"])
        #expect(closed.status == 200, "\(closed.text)")
        // The provider takes 3 s once; the request timeout gives up on that attempt at 300 ms.
        let (slow, took) = try await Self.send(
            harness,
            headers: [
                "cf-aig-max-attempts": "2", "cf-aig-request-timeout": "300",
                "x-mock-fault": "delay-ms=3000, fail-first=1", "x-mock-key": "g",
            ])
        #expect(slow.status == 200, "\(slow.text)")
        #expect(took < .milliseconds(2500), "the second attempt answered before the first would have")
        // Every attempt times out: the last one is answered with 504 request_timeout.
        let (timedOut, _) = try await Self.send(
            harness,
            headers: [
                "cf-aig-max-attempts": "2", "cf-aig-request-timeout": "200", "x-mock-fault": "delay-ms=3000",
            ])
        #expect(timedOut.status == 504)
        #expect((try timedOut.json()["error"] as? [String: Any])?["code"] as? String == "request_timeout")
        let timeouts = try await harness.waitForLogs(query: "&status_code=504", count: 3)
        #expect(timeouts.count == 3)
        try await harness.stop()
    }

    @Test func aStreamIsRetriedBeforeItStartsAndKeepsItsUsage() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let body = Data(
            #"{"model":"gpt-5-mini","stream":true,"messages":[{"role":"user","content":"hello there"}]}"#.utf8)
        let (response, _) = try await Self.send(
            harness,
            headers: ["cf-aig-max-attempts": "3", "x-mock-fault": "status=502, fail-first=1", "x-mock-key": "h"],
            body: body)
        #expect(response.status == 200)
        #expect(response.text.contains("data: [DONE]"))
        // The usage-only chunk the gateway asked for stays with the gateway.
        #expect(!response.text.contains(#""choices":[]"#))
        let logs = try await Self.logs(harness, gateway: "default", count: 2)
        #expect(logs.map { $0["status_code"] as? Int } == [502, 200])
        #expect((logs.last?["tokens_out"] as? Int ?? 0) > 0)
        try await harness.stop()
    }

    @Test func aBadEventIdIsRefusedAndAGoodOneIsEchoed() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let (bad, _) = try await Self.send(harness, headers: ["cf-aig-event-id": String(repeating: "x", count: 129)])
        #expect(bad.status == 400)
        let (good, _) = try await Self.send(harness, headers: ["cf-aig-event-id": "checkout-42"])
        #expect(good.status == 200)
        #expect(good.headers["cf-aig-event-id"] == "checkout-42")
        try await harness.stop()
    }
}
