import Foundation
import Testing

/// The universal endpoint through the gateway against the mock provider: steps tried in order until one answers
/// without a retriable error, the answering step named in `cf-aig-step`, every attempt its own log in one event.
@Suite(.serialized) struct UniversalEndpointTests {
    static func openAIStep(fault: String? = nil, key: String? = nil, config: String? = nil, stream: Bool = false)
        -> String
    {
        var headers = [#""authorization":"Bearer sk-test""#]
        if let fault { headers.append(#""x-mock-fault":"\#(fault)""#) }
        if let key { headers.append(#""x-mock-key":"\#(key)""#) }
        let streamMember = stream ? #","stream":true"# : ""
        var step =
            #"{"provider":"openai","endpoint":"chat/completions","headers":{\#(headers.joined(separator: ","))},"#
            + #""query":{"model":"gpt-5-mini"\#(streamMember),"messages":[{"role":"user","content":"hello there"}]}"#
        if let config { step += #","config":\#(config)"# }
        return step + "}"
    }

    static let anthropicStep =
        #"{"provider":"anthropic","endpoint":"v1/messages","headers":{"x-api-key":"sk-ant","anthropic-version":"2023-06-01"},"#
        + #""query":{"model":"claude-haiku-5-5","max_tokens":64,"messages":[{"role":"user","content":"hello there"}]}}"#

    static func send(_ harness: GatewayHarness, _ steps: [String], headers: [String: String] = [:]) async throws
        -> GatewayHarness.HTTPResult
    {
        try await harness.request(
            "POST", "/v1/default/default", headers: ["Content-Type": "application/json"].merging(headers) { $1 },
            body: Data(("[" + steps.joined(separator: ",") + "]").utf8))
    }

    @Test func theFirstStepThatAnswersWithoutARetriableErrorIsTheAnswer() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let answered = try await Self.send(harness, [Self.openAIStep(), Self.anthropicStep])
        #expect(answered.status == 200, "\(answered.text)")
        #expect(answered.headers["cf-aig-step"] == "0")
        // OpenAI fails: Anthropic answers.
        let fellBack = try await Self.send(harness, [Self.openAIStep(fault: "status=503"), Self.anthropicStep])
        #expect(fellBack.status == 200, "\(fellBack.text)")
        #expect(fellBack.headers["cf-aig-step"] == "1")
        #expect(try fellBack.json()["type"] as? String == "message")
        let logs = Array(try await harness.waitForLogs(count: 3).reversed())
        #expect(logs.map { $0["provider"] as? String } == ["openai", "openai", "anthropic"])
        #expect(logs.map { $0["status_code"] as? Int } == [200, 503, 200])
        #expect(fellBack.headers["cf-aig-log-id"] == logs[2]["id"] as? String)
        #expect(fellBack.headers["cf-aig-event-id"] == logs[1]["id"] as? String)
        // The fallback's usage is the answering provider's.
        #expect((logs[2]["tokens_out"] as? Int ?? 0) > 0)
        #expect(logs.map { $0["step"] as? Int } == [0, 0, 1])
        #expect(logs.map { $0["attempt"] as? Int } == [1, 1, 2])
        try await harness.stop()
    }

    @Test func aStepRetriesOnItsOwnConfigBeforeFallingBack() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let retried = try await Self.send(
            harness,
            [
                Self.openAIStep(fault: "status=502, fail-first=1", key: "u1", config: #"{"maxAttempts":2}"#),
                Self.anthropicStep,
            ])
        #expect(retried.status == 200)
        #expect(retried.headers["cf-aig-step"] == "0")
        // A step that takes too long gives way to the next at its request timeout.
        let slow = try await Self.send(
            harness, [Self.openAIStep(fault: "delay-ms=3000", config: #"{"requestTimeout":200}"#), Self.anthropicStep])
        #expect(slow.status == 200)
        #expect(slow.headers["cf-aig-step"] == "1")
        // Every step fails: the last one's answer goes to the client.
        let failed = try await Self.send(
            harness, [Self.openAIStep(fault: "status=500"), Self.openAIStep(fault: "status=529")])
        #expect(failed.status == 529)
        #expect(failed.headers["cf-aig-step"] == "1")
        try await harness.stop()
    }

    @Test func aStreamedStepKeepsItsUsage() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let response = try await Self.send(
            harness, [Self.openAIStep(fault: "status=503"), Self.openAIStep(stream: true)])
        #expect(response.status == 200)
        #expect(response.text.contains("data: [DONE]"))
        let logs = Array(try await harness.waitForLogs(count: 2).reversed())
        #expect((logs.last?["tokens_out"] as? Int ?? 0) > 0)
        try await harness.stop()
    }

    @Test func malformedStepsAreRefusedByStepAndField() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        for (steps, message) in [
            ([Self.openAIStep(), #"{"provider":"openai","query":{}}"#], "steps[1].endpoint: required"),
            ([#"{"provider":"nowhere","endpoint":"x","query":{}}"#], "steps[0].provider: unknown provider"),
            ([Self.openAIStep(config: #"{"maxAttempts":9}"#)], "steps[0].config.maxAttempts"),
        ] {
            let response = try await Self.send(harness, steps)
            #expect(response.status == 400)
            let error = try #require(try response.json()["error"] as? [String: Any])
            #expect(error["code"] as? String == "invalid_request")
            #expect((error["message"] as? String)?.hasPrefix(message) == true, "\(error)")
        }
        // Nothing was forwarded or recorded for them.
        #expect(try await harness.waitForLogs(count: 1, timeout: .milliseconds(300)).isEmpty)
        try await harness.stop()
    }
}
