import NIOCore
import NIOHTTP1
import Testing

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
                try await Task.sleep(for: .milliseconds(100))
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
            try await responder.respond(body: "proxied \(request.uri)")
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL]) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                try await client.send(.GET, "/api/slow")
                try await client.send(.GET, TestGateway.path("openai", "/one"))
                try await client.send(.GET, "/api/ping")
                try await client.send(.POST, "/api/echo", body: "echo body")
                try await client.send(.GET, TestGateway.path("openai", "/two"))
                try await client.send(.GET, "/api/ping")
                var texts: [String] = []
                for _ in 0..<6 { texts.append(try await client.readResponse().text) }
                #expect(texts == ["slow", "proxied /one", "pong", "echo body", "proxied /two", "pong"])
            }
            #expect(await gateway.sink.wait(for: 2).count == 2)
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
