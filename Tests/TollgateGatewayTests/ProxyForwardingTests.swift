import NIOHTTP1
import Testing
import TollgateModel

@testable import TollgateGateway

@Suite("Proxy forwarding")
struct ProxyForwardingTests {
    @Test func forwardsMethodPathQueryBodyAndEndToEndHeaders() async throws {
        let upstream = try await TestUpstream { request, responder in
            try await responder.respond(
                .created,
                [
                    ("content-type", "application/json"), ("x-upstream", "yes"), ("connection", "keep-alive, x-hop"),
                    ("x-hop", "drop me"), ("keep-alive", "timeout=5"),
                ],
                body: #"{"ok":true}"#)
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL + "/v1"]) { gateway in
            let response = try await TestClient.with(port: gateway.port) { client in
                try await client.request(
                    .POST, TestGateway.path("openai", "/chat/completions?stream=false&x=1"),
                    headers: [
                        ("authorization", "Bearer sk-test"), ("content-type", "application/json"),
                        ("cf-aig-metadata", #"{"team":"search","n":3}"#), ("cf-aig-cache-ttl", "60"),
                        ("connection", "keep-alive, x-secret-hop"), ("x-secret-hop", "1"), ("te", "trailers"),
                        ("proxy-authorization", "Basic abc"), ("x-custom", "kept"),
                    ],
                    body: #"{"model":"gpt-4o-mini"}"#)
            }
            #expect(response.status == 201)
            #expect(response.text == #"{"ok":true}"#)
            #expect(response.header("x-upstream") == "yes")
            #expect(response.header("x-hop") == nil)
            #expect(response.header("keep-alive") == nil)
            let logID = try #require(response.header("cf-aig-log-id"))
            #expect(LogID(logID) != nil)

            let received = try #require(upstream.requests.first)
            #expect(received.method == .POST)
            #expect(received.uri == "/v1/chat/completions?stream=false&x=1")
            #expect(received.bodyText == #"{"model":"gpt-4o-mini"}"#)
            #expect(received.headers.first(name: "authorization") == "Bearer sk-test")
            #expect(received.headers.first(name: "x-custom") == "kept")
            #expect(received.headers.first(name: "host") == "127.0.0.1:\(upstream.port)")
            for dropped in ["cf-aig-metadata", "cf-aig-cache-ttl", "x-secret-hop", "te", "proxy-authorization"] {
                #expect(!received.headers.contains(name: dropped), "\(dropped) was forwarded")
            }
            #expect(received.headers[canonicalForm: "connection"].allSatisfy { $0.lowercased() != "x-secret-hop" })

            let exchanges = await gateway.sink.wait(for: 1)
            #expect(exchanges.count == 1)
            let exchange = try #require(exchanges.first)
            #expect(exchange.id.description == logID)
            #expect(exchange.startedAt == exchange.id.milliseconds)
            #expect(exchange.account == "acme")
            #expect(exchange.gateway == "prod")
            #expect(exchange.provider == "openai")
            #expect(exchange.method == "POST")
            #expect(exchange.path == "/chat/completions")
            #expect(exchange.query == "stream=false&x=1")
            #expect(exchange.statusCode == 201)
            #expect(String(decoding: exchange.requestBody, as: UTF8.self) == #"{"model":"gpt-4o-mini"}"#)
            #expect(String(decoding: exchange.responseBody, as: UTF8.self) == #"{"ok":true}"#)
            #expect(exchange.requestSize == Int64(#"{"model":"gpt-4o-mini"}"#.utf8.count))
            #expect(exchange.responseSize == 11)
            #expect(exchange.error == nil)
            #expect(exchange.ttftMicros != nil)
            #expect(exchange.durationMicros >= (exchange.ttftMicros ?? 0))
            #expect(exchange.collectPayload)
            #expect(exchange.metadata == [MetadataEntry("team", .string("search")), MetadataEntry("n", .number(3))])
            #expect(exchange.requestHeaders.contains { $0.name.lowercased() == "authorization" })
            #expect(exchange.responseHeaders.contains { $0.name == "x-upstream" && $0.value == "yes" })
        }
    }

    @Test func honoursCollectLogHeadersAndGatewaySetting() async throws {
        let upstream = try await TestUpstream { _, responder in try await responder.respond(body: "ok") }
        defer { Task { await upstream.shutdown() } }
        let entries = [
            GatewayDirectory.Entry(account: "acme", gateway: "prod"),
            GatewayDirectory.Entry(account: "acme", gateway: "quiet", collectLogs: false),
        ]
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL], entries: entries) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                let a = try await client.request(.GET, "/v1/acme/quiet/openai/models")
                let b = try await client.request(
                    .GET, TestGateway.path("openai", "/models"), headers: [("cf-aig-collect-log", "false")])
                let c = try await client.request(
                    .GET, TestGateway.path("openai", "/models"), headers: [("cf-aig-collect-log-payload", "false")])
                #expect([a.status, b.status, c.status] == [200, 200, 200])
                #expect(a.header("cf-aig-log-id") != nil)
            }
            // Every request is recorded: without collection as a usage record (no log), so it still counts in
            // usage and costs.
            let exchanges = await gateway.sink.wait(for: 3)
            #expect(exchanges.count == 3)
            let byLogged = Dictionary(grouping: exchanges, by: \.logged)
            #expect(byLogged[false]?.count == 2, "the quiet gateway and cf-aig-collect-log: false")
            #expect(byLogged[true]?.count == 1)
            #expect(byLogged[true]?.first?.collectPayload == false)
        }
    }

    @Test func oneExchangePerRequestOnAKeptAliveConnection() async throws {
        let upstream = try await TestUpstream { request, responder in
            try await responder.respond(body: "answer to \(request.uri)")
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["anthropic": upstream.baseURL]) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                for i in 0..<5 {
                    let response = try await client.request(.GET, TestGateway.path("anthropic", "/v1/r\(i)"))
                    #expect(response.text == "answer to /v1/r\(i)")
                }
            }
            let exchanges = await gateway.sink.wait(for: 5)
            try await Task.sleep(for: .milliseconds(50))
            #expect(gateway.sink.all.count == 5)
            #expect(exchanges.map(\.path) == (0..<5).map { "/v1/r\($0)" })
            #expect(Set(exchanges.map(\.id)).count == 5)
            #expect(exchanges.map(\.id) == exchanges.map(\.id).sorted())
            // The gateway kept one upstream connection for all five.
            #expect(upstream.connectionCount == 1)
        }
    }

    @Test func chunkedRequestBodyIsForwarded() async throws {
        let upstream = try await TestUpstream { request, responder in
            try await responder.respond(
                body: "got \(request.body.count) \(request.headers.first(name: "transfer-encoding") ?? "-")")
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL]) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                try await client.sendHead(
                    .POST, TestGateway.path("openai", "/upload"),
                    headers: [("host", "x"), ("transfer-encoding", "chunked")])
                try await client.sendBody("hello ")
                try await client.sendBody("world")
                try await client.sendEnd()
                let response = try await client.readResponse()
                #expect(response.text == "got 11 chunked")
            }
            let exchange = try #require(await gateway.sink.wait(for: 1).first)
            #expect(String(decoding: exchange.requestBody, as: UTF8.self) == "hello world")
        }
    }

    @Test func http10ClientGetsAClosedDelimitedResponse() async throws {
        let upstream = try await TestUpstream { _, responder in
            try await responder.head(.ok, [("content-type", "text/plain")])
            try await responder.body("streamed ")
            try await responder.body("reply")
            try await responder.end()
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL]) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                try await client.send(.GET, TestGateway.path("openai", "/x"), version: .http1_0)
                let head = try await client.readHead()
                #expect(head.version == .http1_0)
                #expect(head.headers.first(name: "transfer-encoding") == nil)
                var body = ""
                while let part = try await client.nextPart() {
                    if case .body(let buffer) = part { body += String(buffer: buffer) }
                    if case .end = part { break }
                }
                #expect(body == "streamed reply")
            }
        }
    }
}
