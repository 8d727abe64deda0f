import NIOCore
import NIOHTTP1
import NIOPosix

/// An upstream that answers every request at once with the same small JSON body, for load measurements.
final class FixedResponseUpstream: Sendable {
    let port: Int
    private let channel: any Channel

    init(body: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws {
        let bytes = ByteBuffer(string: body)
        self.channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(body: bytes))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        self.port = channel.localAddress?.port ?? 0
    }

    func shutdown() async {
        try? await channel.close()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let body: ByteBuffer
        let headers: HTTPHeaders

        init(body: ByteBuffer) {
            self.body = body
            self.headers = HTTPHeaders([
                ("content-type", "application/json"), ("content-length", String(body.readableBytes)),
            ])
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil
            )
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.write(wrapOutboundOut(.end(nil)), promise: nil)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            context.flush()
        }
    }
}
