import HummingbirdCore
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing
import TollgateStorage

@testable import TollgateGateway

@Suite("Proxy connections")
struct ProxyConnectionTests {
    @Test func keepAliveConnectionsAreReusedAcrossClients() async throws {
        let upstream = try await TestUpstream { _, responder in try await responder.respond(body: "ok") }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL]) { gateway in
            for _ in 0..<3 {
                try await TestClient.with(port: gateway.port) { client in
                    for _ in 0..<3 {
                        let response = try await client.request(.GET, TestGateway.path("openai", "/models"))
                        #expect(response.status == 200)
                    }
                }
            }
            #expect(upstream.requests.count == 9)
            // Client connections may land on different event loops; each loop keeps its own pool.
            #expect(upstream.connectionCount <= System.coreCount)
            #expect(upstream.connectionCount < 9)
        }
    }

    /// A connection resolves a URI once and takes it again for the next request with the same URI
    /// (`ResolvedRoute`); a change to the gateways or the custom providers applies from the next request on, on
    /// that same connection, and a gateway's token check runs for every request.
    @Test func directoryChangesApplyToTheNextRequestOnAKeptAliveConnection() async throws {
        let first = try await TestUpstream { _, responder in try await responder.respond(body: "first") }
        defer { Task { await first.shutdown() } }
        let second = try await TestUpstream { _, responder in try await responder.respond(body: "second") }
        defer { Task { await second.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": first.baseURL]) { gateway in
            let directory = gateway.proxy.directory
            let account = TestGateway.account
            let plain = GatewayDirectory.Entry(account: account, gateway: TestGateway.gateway)
            var guarded = plain
            guarded.authentication = true
            func custom(_ baseURL: String) -> CustomProviderRecord {
                CustomProviderRecord(
                    account: account, slug: "mine", baseURL: baseURL, api: .openai, createdAt: 0, updatedAt: 0)
            }
            try await TestClient.with(port: gateway.port) { client in
                // What each request got: the body when it succeeded, else the status.
                var seen: [String] = []
                func send(_ provider: String) async throws {
                    let response = try await client.request(.GET, TestGateway.path(provider, "/models"))
                    seen.append(response.status == 200 ? response.text : "\(response.status)")
                }
                try await send("openai")
                try await send("openai")
                directory.upsert(guarded)
                try await send("openai")
                try await send("openai")
                directory.upsert(plain)
                try await send("openai")
                directory.remove(account: account, gateway: TestGateway.gateway)
                try await send("openai")
                directory.upsert(plain)
                try await send("openai")
                try await send("custom-mine")
                directory.customProviders.upsert(custom(first.baseURL))
                try await send("custom-mine")
                directory.customProviders.upsert(custom(second.baseURL))
                try await send("custom-mine")
                directory.customProviders.remove(account: account, slug: "mine")
                try await send("custom-mine")
                #expect(
                    seen == [
                        "first", "first", "401", "401", "first", "404", "first", "400", "first", "second", "400",
                    ])
            }
        }
    }

    /// Requests taking turns between two upstreams on one client connection each reuse their upstream's pooled
    /// connection: the pool keeps the endpoint used last apart from the others (`IdleLists`) and swaps them.
    @Test func alternatingUpstreamsEachKeepTheirPooledConnection() async throws {
        let first = try await TestUpstream { request, responder in
            try await responder.respond(body: "first \(request.connection)")
        }
        defer { Task { await first.shutdown() } }
        let second = try await TestUpstream { request, responder in
            try await responder.respond(body: "second \(request.connection)")
        }
        defer { Task { await second.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": first.baseURL, "anthropic": second.baseURL]) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                var seen: [String] = []
                for provider in ["openai", "anthropic", "openai", "anthropic", "anthropic", "openai"] {
                    seen.append(try await client.request(.GET, TestGateway.path(provider, "/models")).text)
                }
                #expect(seen == ["first 0", "second 0", "first 0", "second 0", "second 0", "first 0"])
            }
            #expect(first.connectionCount == 1)
            #expect(second.connectionCount == 1)
        }
    }

    /// A pooled connection idle past `idleConnectionTimeout` is closed by the pool's sweep (its endpoint forgotten);
    /// the next request opens a new one.
    @Test func idleConnectionsPastTheirTimeoutAreClosed() async throws {
        let upstream = try await TestUpstream { request, responder in
            try await responder.respond(body: "on \(request.connection)")
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(
            upstreams: ["openai": upstream.baseURL], configure: { $0.idleConnectionTimeout = .milliseconds(50) }
        ) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                let first = try await client.request(.GET, TestGateway.path("openai", "/models"))
                #expect(first.text == "on 0")
                // Bounded waits, not timing assumptions: for the connection to be pooled, then swept.
                for _ in 0..<100 where await gateway.proxy.idleConnectionCount() == 0 {
                    try await Task.sleep(for: .milliseconds(10))
                }
                for _ in 0..<500 where await gateway.proxy.idleConnectionCount() > 0 {
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(await gateway.proxy.idleConnectionCount() == 0)
                let second = try await client.request(.GET, TestGateway.path("openai", "/models"))
                #expect(second.text == "on 1")
            }
        }
    }

    @Test func pooledConnectionClosedWhileIdleIsNotUsed() async throws {
        let upstream = try await TestUpstream { request, responder in
            try await responder.respond(body: "on \(request.connection)")
            // Keep-alive was offered, but the upstream gives up on the connection right after answering.
            try await Task.sleep(for: .milliseconds(10))
            await responder.close()
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL]) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                let first = try await client.request(.POST, TestGateway.path("openai", "/a"), body: "1")
                // The pool lets go of the connection once it sees the close (bounded wait, not a timing assumption).
                for _ in 0..<500 where await gateway.proxy.idleConnectionCount() > 0 {
                    try await Task.sleep(for: .milliseconds(10))
                }
                let second = try await client.request(.POST, TestGateway.path("openai", "/b"), body: "2")
                #expect(first.text == "on 0")
                #expect(second.text == "on 1")
            }
            let exchanges = await gateway.sink.wait(for: 2)
            #expect(exchanges.allSatisfy { $0.error == nil })
        }
    }

    @Test func idempotentRequestIsRetriedOnceWhenAPooledConnectionDies() async throws {
        let upstream = try await TestUpstream { request, responder in
            if request.connection == 0 && request.indexOnConnection == 1 {
                // The race of an idle timeout: the request meets a connection the upstream is closing.
                await responder.close()
                return
            }
            try await responder.respond(body: "\(request.connection):\(request.indexOnConnection)")
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL]) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                let first = try await client.request(.GET, TestGateway.path("openai", "/models"))
                let second = try await client.request(.GET, TestGateway.path("openai", "/models"))
                #expect(first.text == "0:0")
                #expect(second.status == 200)
                #expect(second.text == "1:0")
            }
            let exchanges = await gateway.sink.wait(for: 2)
            #expect(exchanges.count == 2)
            #expect(exchanges.allSatisfy { $0.error == nil })
        }
    }

    @Test func nonIdempotentRequestIsNotRepeated() async throws {
        let upstream = try await TestUpstream { request, responder in
            if request.connection == 0 && request.indexOnConnection == 1 {
                await responder.close()
                return
            }
            try await responder.respond(body: "ok")
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL]) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                _ = try await client.request(.POST, TestGateway.path("openai", "/a"), body: "1")
                let second = try await client.request(.POST, TestGateway.path("openai", "/b"), body: "2")
                #expect(second.status == 502)
            }
            #expect(upstream.requests.count == 2)
        }
    }

    @Test func pipelinedProxyAndAPIRequestsAreAnsweredInOrder() async throws {
        let upstream = try await TestUpstream { request, responder in
            try await Task.sleep(for: .milliseconds(50))
            try await responder.respond(body: "proxied \(request.uri) \(request.bodyText)")
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL]) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                // All written before any response is read: one connection, /v1/ and /api/ mixed, bodies on both.
                try await client.send(.GET, "/api/slow")
                try await client.send(.POST, TestGateway.path("openai", "/one"), body: "b1")
                try await client.send(.GET, "/api/ping")
                try await client.send(.POST, "/api/echo", body: "echo body")
                try await client.send(.POST, TestGateway.path("openai", "/two"), body: "b2")
                try await client.send(.POST, TestGateway.path("openai", "/three"), body: "b3")
                try await client.send(.POST, "/api/echo", body: "last")
                var texts: [String] = []
                for _ in 0..<7 { texts.append(try await client.readResponse().text) }
                #expect(
                    texts == [
                        "slow", "proxied /one b1", "pong", "echo body", "proxied /two b2", "proxied /three b3", "last",
                    ])
            }
            let exchanges = await gateway.sink.wait(for: 3)
            #expect(exchanges.map(\.path) == ["/one", "/two", "/three"])
        }
    }

    @Test func restAPIIsServedByHummingbirdOnTheSamePort() async throws {
        try await TestGateway.with(upstreams: [:]) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                let ping = try await client.request(.GET, "/api/ping")
                #expect(ping.text == "pong")
                #expect(ping.header("cf-aig-log-id") == nil)
                let missing = try await client.request(.GET, "/api/nothing")
                #expect(missing.status == 404)
                let echo = try await client.request(.POST, "/api/echo", body: "same port")
                #expect(echo.text == "same port")
            }
            #expect(gateway.sink.all.isEmpty)
        }
    }

    @Test func connectionCloseFromClientClosesAfterTheResponse() async throws {
        let upstream = try await TestUpstream { _, responder in try await responder.respond(body: "bye") }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL]) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                let response = try await client.request(
                    .GET, TestGateway.path("openai", "/models"), headers: [("connection", "close")])
                #expect(response.text == "bye")
                #expect(response.header("connection") == "close")
                let after = try await client.nextPart()
                #expect(after == nil)
            }
            // The upstream connection was not affected by the client's Connection header.
            #expect(upstream.requests.first?.headers.first(name: "connection") == nil)
        }
    }
}

@Suite("Proxy lifecycle")
struct ProxyLifecycleTests {
    @Test func upstreamAnsweringBeforeTheBodyIsSentIsPassedOnAndNotReused() async throws {
        let upstream = try await TestUpstream(respondOnHead: true) { request, responder in
            try await responder.respond(.unauthorized, body: "no key for \(request.uri)")
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL]) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                try await client.sendHead(
                    .POST, TestGateway.path("openai", "/files"), headers: [("host", "x"), ("content-length", "10")])
                try await client.sendBody("12345")
                let early = try await client.readResponse()
                #expect(early.status == 401)
                #expect(early.text == "no key for /files")
                try await client.sendBody("67890")
                try await client.sendEnd()
                let next = try await client.request(.GET, TestGateway.path("openai", "/models"))
                #expect(next.status == 401)
            }
            // The first upstream connection had an unfinished request on it, so it was not pooled.
            #expect(upstream.connectionCount == 2)
            let exchanges = await gateway.sink.wait(for: 2)
            #expect(exchanges.map(\.statusCode) == [401, 401])
        }
    }

    @Test func gracefulShutdownLetsAProxiedStreamFinish() async throws {
        let gate = Gate()
        let upstream = try await TestUpstream { request, responder in
            if request.uri == "/v1/models" { return try await responder.respond(body: "models") }
            try await responder.head(.ok, [("content-type", "text/event-stream")])
            try await responder.body("data: 1\n\n")
            try await gate.wait()
            try await responder.body("data: 2\n\n")
            try await responder.end()
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: [
            "openai": upstream.baseURL, "anthropic": "http://localhost:\(upstream.port)",
        ]) { gateway in
            // Leaves one idle pooled upstream connection (to "localhost", apart from the streaming one's).
            try await TestClient.with(port: gateway.port) { client in
                _ = try await client.request(.GET, TestGateway.path("anthropic", "/v1/models"))
            }
            try await TestClient.with(port: gateway.port) { client in
                try await client.send(.POST, TestGateway.path("openai", "/chat/completions"), body: "{}")
                _ = try await client.readHead()
                _ = try await client.nextPart()
                #expect(await gateway.proxy.idleConnectionCount() == 1)
                await gateway.shutdownGracefully()
                try await Task.sleep(for: .milliseconds(50))
                try await Task.sleep(for: .milliseconds(50))
                gate.open()
                var rest = ""
                var ended = false
                while let part = try await client.nextPart() {
                    if case .body(let buffer) = part { rest += String(buffer: buffer) }
                    if case .end = part {
                        ended = true
                        break
                    }
                }
                #expect(ended)
                #expect(rest == "data: 2\n\n")
                // Then the gateway closes the connection.
                let after = try await client.nextPart()
                #expect(after == nil)
            }
            let exchanges = await gateway.sink.wait(for: 2)
            #expect(exchanges.count == 2)
            #expect(exchanges.allSatisfy { $0.error == nil })
            // Once the server is down, the proxy context (a service of the same group) closes the pooled
            // connections.
            var idle = await gateway.proxy.idleConnectionCount()
            for _ in 0..<200 where idle > 0 {
                try await Task.sleep(for: .milliseconds(10))
                idle = await gateway.proxy.idleConnectionCount()
            }
            #expect(idle == 0)
        }
    }

    @Test func idleClientConnectionsCloseButSlowStreamsDoNot() async throws {
        let upstream = try await TestUpstream { _, responder in
            try await responder.head(.ok, [("content-type", "text/event-stream")])
            try await responder.body("data: 1\n\n")
            try await Task.sleep(for: .milliseconds(3_000))
            try await responder.body("data: 2\n\n")
            try await responder.end()
        }
        defer { Task { await upstream.shutdown() } }
        // The idle timeout leaves a loaded machine time to write the request after connecting (at 600 ms a client
        // not scheduled in time found the connection closed before its request); the stream's pause is longer still.
        try await TestGateway.with(
            upstreams: ["openai": upstream.baseURL], http: .init(idleTimeout: .milliseconds(1_500))
        ) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                // A stream quieter than the idle timeout is still a request in flight.
                let response = try await client.request(
                    .POST, TestGateway.path("openai", "/chat/completions"), body: "{}")
                #expect(response.text == "data: 1\n\ndata: 2\n\n")
                // Then nothing happens on the connection: the gateway closes it (the client may see the close as a
                // reset when the kernel answers its own last ACK that way).
                let started = ContinuousClock.now
                var after: HTTPClientResponsePart?
                do {
                    after = try await client.nextPart()
                } catch  where "\(error)".contains("errno: 104") {
                    after = nil  // ECONNRESET
                }
                #expect(after == nil)
                #expect(ContinuousClock.now - started < .seconds(5))
            }
        }
    }
}

/// The client connection as bytes: responses to `HEAD` requests carry no body on either path, and the requests
/// after them on the same connection are answered as usual.
@Suite("Proxy connections, raw bytes")
struct ProxyRawConnectionTests {
    /// Writes `requests` at once on a new connection and reads until `expectedEnd` ends what was read (or the
    /// connection closes).
    static func exchange(port: Int, _ requests: String, until expectedEnd: String) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: requests))
            var text = ""
            for try await buffer in inbound {
                text += String(buffer: buffer)
                if text.hasSuffix(expectedEnd) { break }
            }
            return text
        }
    }

    @Test func headResponsesCarryNoBodyOnTheProxyAndHummingbirdPaths() async throws {
        let upstream = try await TestUpstream { request, responder in
            if request.method == .HEAD {
                try await responder.head(.ok, [("content-length", "6")])
                try await responder.end()
            } else {
                try await responder.respond(body: "sized!")
            }
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL]) { gateway in
            let proxied = TestGateway.path("openai", "/models")
            let text = try await Self.exchange(
                port: gateway.port,
                "HEAD /api/ping HTTP/1.1\r\nhost: t\r\n\r\n" + "HEAD \(proxied) HTTP/1.1\r\nhost: t\r\n\r\n"
                    + "GET \(proxied) HTTP/1.1\r\nhost: t\r\n\r\n" + "GET /api/ping HTTP/1.1\r\nhost: t\r\n\r\n",
                until: "\r\n\r\npong")
            let responses = text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { "HTTP/1.1 " + $0 }
            try #require(responses.count == 4, "\(text)")
            // Each HEAD response is its head alone, with the framing its GET would have.
            #expect(responses[0].hasSuffix("\r\n\r\n"))
            #expect(responses[0].lowercased().contains("content-length: 4\r\n"))
            #expect(responses[1].hasSuffix("\r\n\r\n"))
            #expect(responses[1].contains("content-length: 6\r\n"))
            #expect(responses[2].hasSuffix("\r\n\r\nsized!"))
            #expect(responses[3].hasSuffix("\r\n\r\npong"))
            #expect(upstream.requests.map(\.method) == [.HEAD, .GET])
        }
    }
}
