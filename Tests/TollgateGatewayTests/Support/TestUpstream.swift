import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A request as a test upstream received it.
struct RecordedRequest: Sendable {
    var method: HTTPMethod
    var uri: String
    var version: HTTPVersion
    var headers: HTTPHeaders
    var body: [UInt8]
    /// Which accepted connection it came on (0, 1, …).
    var connection: Int
    /// Its position among the requests of that connection (0, 1, …).
    var indexOnConnection: Int

    var bodyText: String { String(decoding: body, as: UTF8.self) }
}

/// Writes a test upstream's response; every call writes and flushes at once.
struct UpstreamResponder: Sendable {
    let channel: any Channel

    func head(_ status: HTTPResponseStatus, _ headers: [(String, String)] = []) async throws {
        try await channel.writeAndFlush(
            HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: HTTPHeaders(headers))))
    }

    func body(_ text: String) async throws {
        try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: text))))
    }

    func end() async throws {
        try await channel.writeAndFlush(HTTPServerResponsePart.end(nil))
    }

    /// A whole response with a content length.
    func respond(_ status: HTTPResponseStatus = .ok, _ headers: [(String, String)] = [], body: String) async throws {
        try await head(status, headers + [("content-length", String(body.utf8.count))])
        if !body.isEmpty { try await self.body(body) }
        try await end()
    }

    func close() async {
        try? await channel.close()
    }
}

/// A small HTTP/1.1 server on 127.0.0.1 whose answers a test scripts: `behavior` runs for every complete request.
final class TestUpstream: Sendable {
    typealias Behavior = @Sendable (RecordedRequest, UpstreamResponder) async throws -> Void

    let port: Int
    private let channel: any Channel
    private let state: Recorder

    var baseURL: String { "http://127.0.0.1:\(port)" }
    var requests: [RecordedRequest] { state.requests }
    var connectionCount: Int { state.connections }

    init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, behavior: @escaping Behavior) async throws {
        let state = Recorder()
        self.state = state
        self.channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let number = state.newConnection()
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(
                        RecordingHandler(connection: number, state: state, behavior: behavior))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.port = channel.localAddress?.port ?? 0
    }

    func shutdown() async {
        try? await channel.close()
    }

    /// What the server saw, shared between its connections.
    final class Recorder: Sendable {
        private let mutex = Mutex<(requests: [RecordedRequest], connections: Int)>(([], 0))

        func newConnection() -> Int {
            mutex.withLock { s -> Int in
                s.connections += 1
                return s.connections - 1
            }
        }
        func append(_ request: RecordedRequest) { mutex.withLock { $0.requests.append(request) } }
        var requests: [RecordedRequest] { mutex.withLock { $0.requests } }
        var connections: Int { mutex.withLock { $0.connections } }
    }

    private final class RecordingHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart

        let connection: Int
        let state: Recorder
        let behavior: Behavior
        var head: HTTPRequestHead?
        var body: [UInt8] = []
        var count = 0

        init(connection: Int, state: Recorder, behavior: @escaping Behavior) {
            self.connection = connection
            self.state = state
            self.behavior = behavior
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                body = []
            case .body(let buffer):
                body.append(contentsOf: buffer.readableBytesView)
            case .end:
                guard let head else { return }
                let request = RecordedRequest(
                    method: head.method, uri: head.uri, version: head.version, headers: head.headers, body: body,
                    connection: connection, indexOnConnection: count)
                count += 1
                state.append(request)
                let responder = UpstreamResponder(channel: context.channel)
                let behavior = self.behavior
                Task {
                    do {
                        try await behavior(request, responder)
                    } catch {
                        await responder.close()
                    }
                }
            }
        }
    }
}

extension HTTPHeaders {
    init(_ pairs: [(String, String)]) {
        self.init()
        for (name, value) in pairs { add(name: name, value: value) }
    }
}
