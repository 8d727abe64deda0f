import NIOCore
import NIOHTTP1
import Synchronization
import Testing

@testable import TollgateGateway

/// A one-shot signal between a test and its upstream.
final class Gate: Sendable {
    private let opened = Mutex(false)

    func open() { opened.withLock { $0 = true } }

    /// Waits until opened; gives up after `timeoutMillis`.
    func wait(timeoutMillis: Int = 5000) async throws {
        for _ in 0..<(timeoutMillis / 5) {
            if opened.withLock({ $0 }) { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw CancellationError()
    }
}

@Suite("Proxy streaming")
struct ProxyStreamingTests {
    @Test func sseArrivesChunkByChunk() async throws {
        let gate = Gate()
        let upstream = try await TestUpstream { _, responder in
            try await responder.head(.ok, [("content-type", "text/event-stream")])
            try await responder.body("data: {\"n\":1}\n\n")
            // The second event is sent only after the client saw the first one through the gateway.
            try await gate.wait()
            try await responder.body("data: {\"n\":2}\n\n")
            try await responder.body("data: [DONE]\n\n")
            try await responder.end()
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL]) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                try await client.send(.POST, TestGateway.path("openai", "/chat/completions"), body: #"{"stream":true}"#)
                let head = try await client.readHead()
                #expect(head.status == .ok)
                #expect(head.headers.first(name: "content-type") == "text/event-stream")
                #expect(head.headers.first(name: "cf-aig-log-id") != nil)
                guard case .body(let first) = try await client.nextPart() else {
                    Issue.record("expected the first chunk")
                    return
                }
                #expect(String(buffer: first) == "data: {\"n\":1}\n\n")
                gate.open()
                var rest = ""
                while let part = try await client.nextPart() {
                    if case .body(let buffer) = part { rest += String(buffer: buffer) }
                    if case .end = part { break }
                }
                #expect(rest == "data: {\"n\":2}\n\ndata: [DONE]\n\n")
            }
            let exchange = try #require(await gateway.sink.wait(for: 1).first)
            #expect(exchange.error == nil)
            #expect(String(decoding: exchange.responseBody, as: UTF8.self).hasSuffix("data: [DONE]\n\n"))
            #expect(exchange.responseSize == Int64(exchange.responseBody.count))
            let ttft = try #require(exchange.ttftMicros)
            #expect(ttft < exchange.durationMicros)
        }
    }

    @Test func streamCutOffByUpstreamIsAFailure() async throws {
        let upstream = try await TestUpstream { _, responder in
            try await responder.head(.ok, [("content-type", "text/event-stream")])
            try await responder.body("data: {\"n\":1}\n\n")
            try await Task.sleep(for: .milliseconds(20))
            await responder.close()
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL]) { gateway in
            let sawEnd = try await TestClient.with(port: gateway.port) { client in
                try await client.send(.POST, TestGateway.path("openai", "/chat/completions"), body: "{}")
                _ = try await client.readHead()
                var sawEnd = false
                do {
                    while let part = try await client.nextPart() {
                        if case .end = part {
                            sawEnd = true
                            break
                        }
                    }
                } catch {
                    // The gateway closing mid-body is what the client should see.
                }
                return sawEnd
            }
            #expect(!sawEnd, "a cut-off stream must not look complete to the client")
            let exchange = try #require(await gateway.sink.wait(for: 1).first)
            #expect(exchange.statusCode == 200)
            #expect(exchange.error == "upstream closed the connection mid-stream")
            #expect(String(decoding: exchange.responseBody, as: UTF8.self) == "data: {\"n\":1}\n\n")
        }
    }

    @Test func clientDisconnectMidStreamClosesUpstreamAndRecordsError() async throws {
        let upstreamClosed = Gate()
        let upstream = try await TestUpstream { _, responder in
            try await responder.head(.ok, [("content-type", "text/event-stream")])
            try await responder.body("data: 1\n\n")
            try await responder.channel.closeFuture.get()
            upstreamClosed.open()
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL]) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                try await client.send(.POST, TestGateway.path("openai", "/chat/completions"), body: "{}")
                _ = try await client.readHead()
                _ = try await client.nextPart()
                try await client.channel.close()
            }
            try await upstreamClosed.wait()
            let exchange = try #require(await gateway.sink.wait(for: 1).first)
            #expect(exchange.error == "client disconnected before the response ended")
        }
    }
}
