import Testing
import TollgateModel

/// The universal endpoint's body: steps read with every field checked, each step's `query` kept byte for byte.
struct UniversalRequestTests {
    static func parse(_ text: String) throws(UniversalRequest.Failure) -> UniversalRequest {
        try UniversalRequest.parse(Array(text.utf8))
    }

    static func failure(_ text: String) -> String? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func stepsAreReadInOrderWithTheirBodiesAsWritten() throws {
        let body = """
            [ {"provider":"openai","endpoint":"chat/completions","headers":{"Authorization":"Bearer a"},
               "query": {"model":"gpt-5-mini","temperature":0.10,"n":1e0} },
              {"provider":"anthropic","endpoint":"/v1/messages?beta=true","query":{"max_tokens":12},
               "config":{"requestTimeout":5000,"maxAttempts":2,"retryDelay":100,"backoff":"linear"}} ]
            """
        let request = try Self.parse(body)
        #expect(request.steps.count == 2)
        let first = request.steps[0]
        #expect(first.provider == "openai")
        #expect(first.path == "/chat/completions")
        #expect(first.query == nil)
        #expect(first.headers == [.init(name: "Authorization", value: "Bearer a")])
        // Numbers and spacing stay exactly as the client wrote them.
        #expect(String(decoding: first.body, as: UTF8.self) == #"{"model":"gpt-5-mini","temperature":0.10,"n":1e0}"#)
        #expect(first.config == UniversalRequest.Config())
        let second = request.steps[1]
        #expect(second.path == "/v1/messages")
        #expect(second.query == "beta=true")
        #expect(second.config.requestTimeout == 5000)
        #expect(second.config.maxAttempts == 2)
        #expect(second.config.retryDelay == 100)
        #expect(second.config.backoff == "linear")
    }

    @Test func everyMistakeIsNamedByStepAndField() {
        let step = #""provider":"openai","endpoint":"chat/completions","query":{}"#
        let cases: [(String, String)] = [
            ("{}", "body: expected a JSON array of steps"),
            ("[]", "body: expected 1 to 16 steps"),
            ("[{" + step + "}", "body: not valid JSON"),
            ("[{" + step + "}, 3]", "steps[1]: expected a JSON object"),
            (#"[{"endpoint":"x","query":{}}]"#, "steps[0].provider: required"),
            (#"[{"provider":"openai","query":{}}]"#, "steps[0].endpoint: required"),
            (#"[{"provider":"openai","endpoint":"x"}]"#, "steps[0].query: required"),
            (#"[{"provider":"openai","endpoint":"../admin","query":{}}]"#, "steps[0].endpoint: expected"),
            (#"[{"provider":"openai","endpoint":"a b","query":{}}]"#, "steps[0].endpoint: expected"),
            ("[{" + step + #","provder":"x"}]"#, "steps[0].provder: unknown field"),
            ("[{" + step + #","headers":[]}]"#, "steps[0].headers: expected an object"),
            ("[{" + step + #","headers":{"x y":"1"}}]"#, "steps[0].headers.x y: not a valid header name"),
            ("[{" + step + #","headers":{"x":1}}]"#, "steps[0].headers.x: expected a string"),
            ("[{" + step + #","config":{"maxAttempts":6}}]"#, "steps[0].config.maxAttempts: expected a whole number"),
            ("[{" + step + #","config":{"retryDelay":1.5}}]"#, "steps[0].config.retryDelay: expected a whole number"),
            ("[{" + step + #","config":{"backoff":"fast"}}]"#, "steps[0].config.backoff: expected constant"),
            ("[{" + step + #","config":{"timeout":1}}]"#, "steps[0].config.timeout: unknown field"),
            ("[{" + step + "},{" + step + #","provider":"x"}]"#, "body: not valid JSON (duplicate"),
        ]
        for (body, message) in cases {
            let failure = Self.failure(body)
            #expect(failure?.hasPrefix(message) == true, "\(body): \(failure ?? "accepted")")
        }
        let many = "[" + Array(repeating: "{" + step + "}", count: 17).joined(separator: ",") + "]"
        #expect(Self.failure(many) == "body: expected 1 to 16 steps")
    }
}
