import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing
import TollgateModel

@testable import TollgateGateway

@Suite("Proxy errors")
struct ProxyErrorTests {
    /// A loopback port that refuses connections for as long as the returned holder lives: bound but not listening,
    /// so no other test (they run in parallel) can start listening on it meanwhile.
    static func closedPort() async throws -> RefusingPort {
        try RefusingPort()
    }

    @Test func unknownAccountOrGatewayIs404AndNothingForwarded() async throws {
        let upstream = try await TestUpstream { _, responder in try await responder.respond(body: "x") }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL]) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                let a = try await client.request(.POST, "/v1/nobody/prod/openai/chat/completions", body: "{}")
                let b = try await client.request(.GET, "/v1/acme/nope/openai/models")
                #expect(a.status == 404)
                #expect(b.status == 404)
                #expect(a.text.hasPrefix(#"{"error":{"code":"gateway_not_found","message":"#))
                #expect(a.header("content-type") == "application/json")
                // The connection stays usable.
                let c = try await client.request(.GET, TestGateway.path("openai", "/models"))
                #expect(c.status == 200)
            }
            #expect(upstream.requests.count == 1)
            _ = await gateway.sink.wait(for: 1)
            #expect(gateway.sink.all.count == 1)
        }
    }

    @Test func unknownProviderIs400ListingSlugs() async throws {
        try await TestGateway.with(upstreams: [:]) { gateway in
            let response = try await TestClient.with(port: gateway.port) { client in
                try await client.request(.GET, TestGateway.path("nosuch", "/models"))
            }
            #expect(response.status == 400)
            #expect(response.text.contains(#""code":"unknown_provider""#))
            for slug in ProviderTable.builtIn.slugs { #expect(response.text.contains(slug)) }
        }
    }

    @Test func badMetadataIs400() async throws {
        let upstream = try await TestUpstream { _, responder in try await responder.respond(body: "x") }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL]) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                for bad in [#"{"a":{"b":1}}"#, "not json", #"{"1":1,"2":2,"3":3,"4":4,"5":5,"6":6}"#, #"[1]"#] {
                    let response = try await client.request(
                        .GET, TestGateway.path("openai", "/models"), headers: [("cf-aig-metadata", bad)])
                    #expect(response.status == 400, "\(bad)")
                    #expect(response.text.contains("invalid_metadata"))
                }
            }
            #expect(upstream.requests.isEmpty)
        }
    }

    @Test func oversizedBodyIs413ByContentLengthAndWhileChunked() async throws {
        let upstream = try await TestUpstream { request, responder in
            // Reads the whole body before answering, so a chunked overflow is caught before any response.
            try await responder.respond(body: "\(request.body.count)")
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL], configure: { $0.maxRequestBodyBytes = 100 })
        {
            gateway in
            try await TestClient.with(port: gateway.port) { client in
                try await client.sendHead(
                    .POST, TestGateway.path("openai", "/chat/completions"),
                    headers: [("host", "x"), ("content-length", "101")])
                // The gateway answers as soon as it has read the head, and its half-close ends this client's
                // connection: the body may find it closed.
                try? await client.sendBody(String(repeating: "x", count: 101))
                try? await client.sendEnd()
                let response = try await client.readResponse()
                #expect(response.status == 413)
                #expect(response.text.contains("request_too_large"))
                #expect(response.header("connection") == "close")
            }
            #expect(upstream.requests.isEmpty)
            try await TestClient.with(port: gateway.port) { client in
                try await client.sendHead(
                    .POST, TestGateway.path("openai", "/chat/completions"),
                    headers: [("host", "x"), ("transfer-encoding", "chunked")])
                try await client.sendBody(String(repeating: "y", count: 60))
                // The gateway answers and closes as soon as the bytes pass the limit, which may be before this chunk's
                // last bytes are written: the write may find the connection closed.
                try? await client.sendBody(String(repeating: "y", count: 60))
                let response = try await client.readResponse()
                #expect(response.status == 413)
                #expect(response.header("cf-aig-log-id") != nil)
            }
            let exchange = try #require(await gateway.sink.wait(for: 1).first)
            #expect(exchange.statusCode == 413)
            #expect(exchange.error != nil)
            #expect(upstream.requests.isEmpty)
        }
    }

    @Test func aRefusedUploadIsReadAndDroppedAfterTheAnswerInsteadOfReset() async throws {
        let upstream = try await TestUpstream { _, responder in try await responder.respond(body: "x") }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL], configure: { $0.maxRequestBodyBytes = 100 })
        {
            gateway in
            // Raw bytes over a socket that sees the gateway's half-close as the end of input and stays open to write.
            let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .connect(host: "127.0.0.1", port: gateway.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            let chunk = "3c\r\n" + String(repeating: "y", count: 60) + "\r\n"
            try await channel.executeThenClose { inbound, outbound in
                let path = TestGateway.path("openai", "/chat/completions")
                try await outbound.write(
                    ByteBuffer(
                        string: "POST \(path) HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n" + chunk + chunk
                    ))
                var answer = ""
                for try await bytes in inbound { answer += String(buffer: bytes) }
                #expect(answer.hasPrefix("HTTP/1.1 413"))
                #expect(answer.contains("request_too_large"))
                // The rest of the upload, sent after the answer: read and dropped. A gateway that closed with this
                // input unread would reset the connection, and a reset can destroy an answer still in flight.
                try await outbound.write(ByteBuffer(string: chunk))
                try await Task.sleep(for: .milliseconds(100))
                #expect(channel.channel.isActive)
                try await outbound.write(ByteBuffer(string: chunk))
            }
            #expect(upstream.requests.isEmpty)
        }
    }

    @Test func unreachableUpstreamIs502AndRecorded() async throws {
        let refusing = try await Self.closedPort()
        defer { refusing.close() }
        let port = refusing.port
        try await TestGateway.with(upstreams: ["openai": "http://127.0.0.1:\(port)/v1"]) { gateway in
            let response = try await TestClient.with(port: gateway.port) { client in
                try await client.request(.POST, TestGateway.path("openai", "/chat/completions"), body: "{}")
            }
            #expect(response.status == 502)
            #expect(response.text.contains("upstream_unreachable"))
            let logID = try #require(response.header("cf-aig-log-id"))
            let exchange = try #require(await gateway.sink.wait(for: 1).first)
            #expect(exchange.id.description == logID)
            #expect(exchange.statusCode == 502)
            #expect(exchange.error?.contains("unreachable") == true)
            #expect(exchange.ttftMicros == nil)
        }
    }

    @Test func silentUpstreamIs504AndRecorded() async throws {
        let upstream = try await TestUpstream { _, responder in
            try await Task.sleep(for: .seconds(2))
            try await responder.respond(body: "too late")
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(
            upstreams: ["openai": upstream.baseURL], configure: { $0.readTimeout = .milliseconds(200) }
        ) {
            gateway in
            let response = try await TestClient.with(port: gateway.port) { client in
                try await client.request(.GET, TestGateway.path("openai", "/models"))
            }
            #expect(response.status == 504)
            #expect(response.text.contains("upstream_timeout"))
            #expect(response.header("cf-aig-log-id") != nil)
            let exchange = try #require(await gateway.sink.wait(for: 1).first)
            #expect(exchange.statusCode == 504)
            #expect(exchange.error == "upstream read timeout")
            #expect(exchange.durationMicros >= 200_000)
        }
    }
}

/// A TCP socket bound to a loopback port without listening: connections to the port are refused.
final class RefusingPort: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard fd >= 0, bound == 0 else { throw HarnessError("no port to hold") }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(descriptor) }
}
