import Testing

@testable import TollgateGateway
@testable import TollgateModel

/// An upstream's response head reaches the client with every field as it came (each written `name: value`), whether
/// the exchange records its headers or not; the record keeps all of them with a log, and without one only those its
/// fields are read from.
@Suite struct ProxyResponseHeadTests {
    static let body = "data: {\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}\n\ndata: [DONE]\n\n"

    /// The upstream's fields: with one space after each colon (forwarded as the bytes came), and without (each field
    /// written again, its value's leading whitespace dropped, as NIOHTTP1 reads it).
    static let heads = [
        "content-type: text/event-stream\r\nx-upstream: two  spaces\r\nX-Mixed-Case: Value\r\n",
        "content-type:text/event-stream\r\nx-upstream: \t two  spaces\r\nX-Mixed-Case:  Value\r\n",
    ]

    static let expected = [
        ("content-type", "text/event-stream"), ("x-upstream", "two  spaces"), ("X-Mixed-Case", "Value"),
        ("content-length", String(body.utf8.count)),
    ]

    @Test(arguments: heads, [true, false])
    func fieldsReachTheClientAndTheRecordKeepsWhatItReads(head: String, logged: Bool) async throws {
        let response = "HTTP/1.1 200 OK\r\n\(head)content-length: \(Self.body.utf8.count)\r\n\r\n\(Self.body)"
        let upstream = try await FixedResponseUpstream(response: response)
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": "http://127.0.0.1:\(upstream.port)/v1"]) { gateway in
            let answer = try await TestClient.with(port: gateway.port) { client in
                try await client.request(
                    .POST, TestGateway.path("openai", "/chat/completions"),
                    headers: [("content-type", "application/json")] + (logged ? [] : [("cf-aig-collect-log", "false")]),
                    body: #"{"model":"gpt-4o-mini","messages":[]}"#)
            }
            #expect(answer.status == 200)
            #expect(answer.text == Self.body)
            let fields = answer.head.headers.map { "\($0.name): \($0.value)" }
            #expect(Array(fields.prefix(4)) == Self.expected.map { "\($0.0): \($0.1)" })
            #expect(answer.header("cf-aig-log-id") != nil)

            let exchange = try #require(await gateway.sink.wait(for: 1).first)
            // Without a log the id is written into the head as bytes: the same text, as the record's id.
            #expect(answer.header("cf-aig-log-id") == exchange.id.description)
            let recorded = exchange.responseHeaders.map { "\($0.name): \($0.value)" }
            if logged {
                #expect(Array(recorded.prefix(4)) == Self.expected.map { "\($0.0): \($0.1)" })
            } else {
                #expect(recorded.first == "content-type: text/event-stream")
                #expect(!recorded.contains { $0.hasPrefix("x-upstream") || $0.hasPrefix("X-Mixed-Case") })
            }
            // The request did not ask for a stream: the record knows it was one from the response's content type.
            let record = LogRecord(exchange: exchange, providers: .builtIn)
            #expect(record.stream)
            #expect(record.usage.tokensIn == 3 && record.usage.tokensOut == 4)
            #expect(record.responseHeaders.count == (logged ? 5 : 0))
        }
    }
}
