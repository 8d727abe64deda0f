import NIOCore
import NIOHTTP1
import NIOPosix

/// An upstream that answers every request, once its head and body are read, with the same bytes: a small JSON body
/// (for load measurements), or a whole response written as given (heads an HTTP encoder would not write).
final class FixedResponseUpstream: Sendable {
    let port: Int
    private let channel: any Channel

    /// A 200 with `body` as its JSON body.
    convenience init(body: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws {
        let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n\r\n"
        try await self.init(response: head + body, group: group)
    }

    /// `response`'s bytes as they are: status line, head and body.
    init(response: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) async throws {
        let bytes = ByteBuffer(string: response)
        self.channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(HTTPRequestDecoder()))
                    try channel.pipeline.syncOperations.addHandler(Handler(response: bytes))
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
        typealias OutboundOut = ByteBuffer
        let response: ByteBuffer

        init(response: ByteBuffer) { self.response = response }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            context.write(wrapOutboundOut(response), promise: nil)
        }

        func channelReadComplete(context: ChannelHandlerContext) {
            context.flush()
        }
    }
}
