import NIOCore
import NIOHTTP1
import Synchronization
import Testing

@testable import TollgateGateway

/// Counts what a test upstream managed to write.
final class Progress: Sendable {
    private let value = Atomic<Int>(0)
    func step() { value.add(1, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

@Suite("Proxy backpressure")
struct ProxyBackpressureTests {
    @Test func slowClientSlowsTheUpstreamDown() async throws {
        let chunkSize = 256 * 1024
        let chunks = 256  // 64 MB: far more than the kernel buffers between upstream, gateway and client
        let progress = Progress()
        let chunk = String(repeating: "x", count: chunkSize)
        let upstream = try await TestUpstream { _, responder in
            try await responder.head(.ok, [("content-length", String(chunkSize * chunks))])
            for _ in 0..<chunks {
                try await responder.body(chunk)
                progress.step()
            }
            try await responder.end()
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(
            upstreams: ["openai": upstream.baseURL], configure: { $0.maxCapturedBodyBytes = 1024 }
        ) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                try await client.send(.GET, TestGateway.path("openai", "/files/big/content"))
                _ = try await client.readHead()
                // The client stops reading; the gateway must stop reading from the upstream too.
                try await Task.sleep(for: .milliseconds(500))
                let whileStalled = progress.count
                #expect(whileStalled < chunks, "the upstream could write everything while the client read nothing")
                var received = 0
                while let part = try await client.nextPart() {
                    if case .body(let buffer) = part { received += buffer.readableBytes }
                    if case .end = part { break }
                }
                #expect(received == chunkSize * chunks)
            }
            let exchange = try #require(await gateway.sink.wait(for: 1).first)
            #expect(exchange.responseSize == Int64(chunkSize * chunks))
            #expect(exchange.responseBody.count == 1024)
        }
    }
}
