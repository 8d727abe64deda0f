import NIOCore
import NIOHTTP1
import NIOPosix

/// A response as a test client read it.
struct TestResponse: Sendable {
    var head: HTTPResponseHead
    var body: [UInt8]

    var status: Int { Int(head.status.code) }
    var text: String { String(decoding: body, as: UTF8.self) }
    func header(_ name: String) -> String? { head.headers.first(name: name) }
}

enum TestClientError: Error {
    case connectionClosed
    case unexpectedPart(String)
}

/// An HTTP/1.1 client over one connection that exposes parts as they arrive, so tests can read a stream piece by
/// piece, pipeline requests and reuse the connection.
final class TestClient {
    private var inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
    let channel: any Channel

    private init(
        inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator,
        outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>, channel: any Channel
    ) {
        self.inbound = inbound
        self.outbound = outbound
        self.channel = channel
    }

    /// Connects to 127.0.0.1:`port`, runs `body`, closes.
    static func with<T: Sendable>(
        port: Int, _ body: (TestClient) async throws -> T
    ) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel)
                }
            }
        let ch = channel.channel
        return try await channel.executeThenClose { inbound, outbound in
            let client = TestClient(inbound: inbound.makeAsyncIterator(), outbound: outbound, channel: ch)
            return try await body(client)
        }
    }

    func send(
        _ method: HTTPMethod = .GET, _ uri: String, headers: [(String, String)] = [], body: String? = nil,
        version: HTTPVersion = .http1_1
    ) async throws {
        var all = headers
        if let body,
            !all.contains(where: { $0.0.lowercased() == "content-length" || $0.0.lowercased() == "transfer-encoding" })
        {
            all.append(("content-length", String(body.utf8.count)))
        }
        if !all.contains(where: { $0.0.lowercased() == "host" }) { all.append(("host", "gateway.test")) }
        // One write of the whole request, as a client that has it all sends it: written part by part, a gateway
        // that answers on the head (a 413, a 502) and closes could end this connection between the parts.
        var parts: [HTTPClientRequestPart] = [
            .head(HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders(all)))
        ]
        if let body, !body.isEmpty { parts.append(.body(.byteBuffer(ByteBuffer(string: body)))) }
        parts.append(.end(nil))
        try await outbound.write(contentsOf: parts)
    }

    func sendHead(_ method: HTTPMethod, _ uri: String, headers: [(String, String)]) async throws {
        try await outbound.write(
            .head(HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: HTTPHeaders(headers))))
    }

    func sendBody(_ text: String) async throws {
        try await outbound.write(.body(.byteBuffer(ByteBuffer(string: text))))
    }

    func sendEnd() async throws {
        try await outbound.write(.end(nil))
    }

    /// The next response part, or nil when the connection closed.
    func nextPart() async throws -> HTTPClientResponsePart? {
        try await inbound.next()
    }

    func readHead() async throws -> HTTPResponseHead {
        guard let part = try await inbound.next() else { throw TestClientError.connectionClosed }
        guard case .head(let head) = part else { throw TestClientError.unexpectedPart("\(part)") }
        return head
    }

    /// Reads a whole response.
    func readResponse() async throws -> TestResponse {
        let head = try await readHead()
        var body: [UInt8] = []
        while true {
            guard let part = try await inbound.next() else { throw TestClientError.connectionClosed }
            switch part {
            case .head: throw TestClientError.unexpectedPart("head")
            case .body(let buffer): body.append(contentsOf: buffer.readableBytesView)
            case .end: return TestResponse(head: head, body: body)
            }
        }
    }

    func request(
        _ method: HTTPMethod = .GET, _ uri: String, headers: [(String, String)] = [], body: String? = nil
    ) async throws -> TestResponse {
        try await send(method, uri, headers: headers, body: body)
        return try await readResponse()
    }
}
