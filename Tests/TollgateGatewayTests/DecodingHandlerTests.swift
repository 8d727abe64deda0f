import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import TollgateGateway

/// `RequestDecodingHandler` runs `RequestDecoder` as NIO's `ByteToMessageHandler` would: the same parts, in the same
/// order, when the pipeline answers while the decoder runs — a read arriving then, the channel closed then — and at
/// the end of the input.
struct DecodingHandlerTests {
    /// What a handler after the decoder does when it sees a request's head.
    enum Reaction {
        case nothing
        /// Reads more bytes into the pipeline from inside the decoder's loop (a re-entrant read).
        case readMore([UInt8])
        /// Closes the channel from inside the decoder's loop (the decoder hears of it while it runs).
        case close
        /// Half-closes the input from inside the decoder's loop.
        case inputClosed
    }

    final class Probe: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        var reaction: Reaction
        var parts: [String] = []
        var errors: [String] = []

        init(_ reaction: Reaction) { self.reaction = reaction }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let part = unwrapInboundIn(data)
            switch part {
            case .head(let head): parts.append("head \(head.method) \(head.uri)")
            case .body(let bytes): parts.append("body \(bytes.readableBytes)")
            case .end: parts.append("end")
            }
            guard case .head = part else { return }
            let reaction = self.reaction
            self.reaction = .nothing
            switch reaction {
            case .nothing: break
            case .readMore(let bytes):
                var buffer = context.channel.allocator.buffer(capacity: bytes.count)
                buffer.writeBytes(bytes)
                context.channel.pipeline.fireChannelRead(NIOAny(buffer))
            case .close: context.close(promise: nil)
            case .inputClosed: context.channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
            }
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            errors.append("\(error)")
        }
    }

    /// The parts and errors the probe saw, behind `decoder`, for `reads` then the channel's close.
    static func run(_ decoder: any ChannelHandler, _ reaction: Reaction, reads: [[UInt8]]) throws -> [String] {
        let channel = EmbeddedChannel()
        let probe = Probe(reaction)
        try channel.pipeline.syncOperations.addHandler(decoder)
        try channel.pipeline.syncOperations.addHandler(probe)
        try channel.connect(to: try SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        for read in reads where channel.isActive {
            var buffer = channel.allocator.buffer(capacity: read.count)
            buffer.writeBytes(read)
            channel.pipeline.fireChannelRead(NIOAny(buffer))
        }
        if channel.isActive { _ = try? channel.finish() }
        return probe.parts + probe.errors.map { "error \($0)" }
    }

    static func both(_ reaction: Reaction, reads: [[UInt8]]) throws -> (nio: [String], tollgate: [String]) {
        (
            try run(ByteToMessageHandler(RequestDecoder()), reaction, reads: reads),
            try run(RequestDecodingHandler(RequestDecoder()), reaction, reads: reads)
        )
    }

    static let get = Array("GET /a HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
    static let post = Array("POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello".utf8)
    static let cut = Array("GET /c HTTP/1.1\r\nHost: x\r\n".utf8)

    static let inputs: [(name: String, reads: [[UInt8]])] = {
        let split: [[UInt8]] = [
            Array(get.prefix(7)), Array(get.dropFirst(7)) + Array(post.prefix(40)), Array(post.dropFirst(40)),
        ]
        let garbage: [UInt8] = get + [1, 2, 13, 10, 13, 10]
        return [
            ("pipelined in one read", [get + post + get]),
            ("cut across reads", split),
            ("a head cut short by the end of the input", [get + cut]),
            ("garbage after a request", [garbage, get]),
        ]
    }()

    @Test(arguments: 0..<4)
    func theSamePartsAsByteToMessageHandler(_ input: Int) throws {
        let (name, reads) = Self.inputs[input]
        // A read arriving while the decoder runs is the one difference (`aReadDuringTheDecoderLoopIsDecodedAtOnce`).
        for reaction in [Reaction.nothing, .close, .inputClosed] {
            let (nio, tollgate) = try Self.both(reaction, reads: reads)
            #expect(tollgate == nio, "\(name), \(reaction)")
            #expect(!tollgate.isEmpty)
        }
    }

    @Test func aReadDuringTheDecoderLoopIsDecodedAtOnce() throws {
        // Behind the bytes being decoded, by the same loop. (`ByteToMessageHandler` leaves such bytes until the next
        // read or the end of the input once the decoder asks for more.)
        let parts = try Self.run(
            RequestDecodingHandler(RequestDecoder()), .readMore(Self.post), reads: [Self.get + Self.get])
        #expect(parts == ["head GET /a", "end", "head GET /a", "end", "head POST /b", "body 5", "end"])
    }
}
