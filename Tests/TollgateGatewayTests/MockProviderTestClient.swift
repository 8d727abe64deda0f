import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 client for the mock provider's tests: sends requests on one connection and collects every
/// response part with its arrival time, including responses the server cut short.
enum MockProviderTestClient {
    struct Request: Sendable {
        var method: HTTPMethod = .POST
        var path: String
        var body: String = ""
        var headers: [(String, String)] = []
    }

    struct Response: Sendable {
        var head: HTTPResponseHead?
        var body: [UInt8] = []
        /// Arrival time of each body part.
        var partTimes: [ContinuousClock.Instant] = []
        var headTime: ContinuousClock.Instant?
        /// Whether the response's end arrived (false when the connection closed first).
        var complete = false

        var status: Int { head.map { Int($0.status.code) } ?? 0 }
        var text: String { String(decoding: body, as: UTF8.self) }

        func header(_ name: String) -> String? { head?.headers.first(name: name) }

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
        }

        /// The body's server-sent events as (event name, data) pairs.
        var events: [(event: String?, data: String)] {
            text.components(separatedBy: "\n\n").compactMap { block in
                guard !block.isEmpty else { return nil }
                var event: String?
                var data: [String] = []
                for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                    if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
                    if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
                }
                return (event, data.joined(separator: "\n"))
            }
        }

        /// The JSON objects of the events' data lines (skipping `[DONE]`).
        var eventObjects: [[String: Any]] {
            events.compactMap { event in
                guard event.data != "[DONE]" else { return nil }
                return (try? JSONSerialization.jsonObject(with: Data(event.data.utf8))) as? [String: Any]
            }
        }
    }

    /// Sends `requests` back to back on one connection and returns their responses (fewer if the connection
    /// closed early). Gives up after `timeout` by closing the connection.
    static func send(
        _ requests: [Request], port: Int, timeout: TimeAmount = .seconds(10),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> [Response] {
        let promise = group.next().makePromise(of: [Response].self)
        let expected = requests.count
        let channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(Collector(expected: expected, promise: promise))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let timeoutTask = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        for request in requests {
            var headers = HTTPHeaders()
            headers.add(name: "host", value: "127.0.0.1:\(port)")
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "content-length", value: String(request.body.utf8.count))
            for (name, value) in request.headers { headers.add(name: name, value: value) }
            let head = HTTPRequestHead(version: .http1_1, method: request.method, uri: request.path, headers: headers)
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            if !request.body.isEmpty {
                channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: request.body))), promise: nil)
            }
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
        let responses = try await promise.futureResult.get()
        timeoutTask.cancel()
        try? await channel.close()
        return responses
    }

    static func send(_ request: Request, port: Int, timeout: TimeAmount = .seconds(10)) async throws -> Response {
        let responses = try await send([request], port: port, timeout: timeout)
        return responses.first ?? Response()
    }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart

        private let expected: Int
        private let promise: EventLoopPromise<[Response]>
        private var responses: [Response] = []
        private var current: Response?
        private var done = false

        init(expected: Int, promise: EventLoopPromise<[Response]>) {
            self.expected = expected
            self.promise = promise
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let now = ContinuousClock.now
            switch unwrapInboundIn(data) {
            case .head(let head):
                current = Response(head: head, headTime: now)
            case .body(let buffer):
                current?.body.append(contentsOf: buffer.readableBytesView)
                current?.partTimes.append(now)
            case .end:
                if var response = current {
                    response.complete = true
                    responses.append(response)
                }
                current = nil
                if responses.count == expected { finish() }
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            if let current { responses.append(current) }
            current = nil
            finish()
            context.fireChannelInactive()
        }

        private func finish() {
            guard !done else { return }
            done = true
            promise.succeed(responses)
        }
    }
}
