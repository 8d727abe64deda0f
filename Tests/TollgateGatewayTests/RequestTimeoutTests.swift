import Foundation
import Testing

/// `request_timeout` and `cf-aig-request-timeout` through the gateway: a provider that has not answered in time gets
/// the client a 504 `request_timeout`, recorded like any answered request; a bad control header is a 400 naming it.
@Suite(.serialized) struct RequestTimeoutTests {
    static let body = Data(#"{"model":"gpt-5-mini","messages":[{"role":"user","content":"hi"}]}"#.utf8)

    static func send(_ harness: GatewayHarness, gateway: String = "default", headers: [String: String]) async throws
        -> (GatewayHarness.HTTPResult, Duration)
    {
        let started = ContinuousClock.now
        let result = try await harness.request(
            "POST", "/v1/default/\(gateway)/openai/chat/completions",
            headers: ["Content-Type": "application/json"].merging(headers) { $1 }, body: Self.body)
        return (result, ContinuousClock.now - started)
    }

    @Test func aSlowProviderIsAnswered504InTime() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let created = try await harness.api(
            "POST", "/api/v1/accounts/default/gateways", json: #"{"id":"impatient","request_timeout":300}"#)
        #expect(created.status == 201, "\(created.text)")
        // The mock waits 3 s before its head; the gateway answers at 300 ms.
        let (timedOut, took) = try await Self.send(
            harness, gateway: "impatient", headers: ["x-mock-fault": "delay-ms=3000"])
        #expect(timedOut.status == 504)
        #expect((try timedOut.json()["error"] as? [String: Any])?["code"] as? String == "request_timeout")
        #expect(took < .milliseconds(2500), "answered before the provider's head")
        // The per-request header overrides the gateway's setting, both ways.
        let (patient, _) = try await Self.send(
            harness, gateway: "impatient", headers: ["cf-aig-request-timeout": "10000", "x-mock-fault": "delay-ms=600"])
        #expect(patient.status == 200)
        let (header, _) = try await Self.send(
            harness, headers: ["cf-aig-request-timeout": "200", "x-mock-fault": "delay-ms=3000"])
        #expect(header.status == 504)
        // The timed-out requests are recorded with their status.
        let logs = try await harness.waitForLogs(query: "&status_code=504", count: 2)
        #expect(logs.count == 2)
        try await harness.stop()
    }

    @Test func badControlHeadersAreRefusedByName() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        for (name, value) in [
            ("cf-aig-request-timeout", "0"), ("cf-aig-max-attempts", "9"), ("cf-aig-cache-ttl", "5"),
            ("cf-aig-backoff", "random"),
        ] {
            let (response, _) = try await Self.send(harness, headers: [name: value])
            #expect(response.status == 400, "\(name): \(value)")
            let message = (try response.json()["error"] as? [String: Any])?["message"] as? String
            #expect(message?.hasPrefix(name + ":") == true, "\(name): \(message ?? "")")
        }
        try await harness.stop()
    }
}
