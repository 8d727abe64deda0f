import NIOCore
import NIOHTTP1

/// Runs one of the proxy's decoders on a channel's bytes (`RequestDecodingHandler` on a client connection,
/// `ResponseDecodingHandler` on an upstream one) as NIO's `ByteToMessageHandler` runs a decoder: bytes not yet
/// decoded are kept and the next read is added behind them; `decode` is called until it needs more; when the input
/// ends (`inputClosed`) or the channel goes inactive, `decodeLast` is called once with what is left; a thrown error is
/// fired down the pipeline once and every later read is refused with `dataReceivedInErrorState`. A read that arrives
/// while the decoder runs (the pipeline answered synchronously) is added behind the bytes being decoded and decoded
/// by the same loop before it returns (where `ByteToMessageHandler` leaves it for the next read once the decoder asks
/// for more). Neither handler is removable: no decoder is ever taken out of its pipeline.
///
/// Why not `ByteToMessageHandler`: its code is generic and not inlinable, so run from NIO's module it looks up type
/// metadata and calls the decoder through its witness table on every read. Each handler here is a final class of
/// one decoder, so this code is compiled for that decoder (`scripts/cost-proxy.sh`, README).
protocol DecodingHandler: AnyObject, ChannelInboundHandler where InboundIn == ByteBuffer {
    associatedtype Decoder: ByteToMessageDecoder
    var decoding: DecodingStorage<Decoder> { get set }
}

/// What a `DecodingHandler` keeps between reads.
struct DecodingStorage<Decoder: ByteToMessageDecoder> {
    enum State {
        case active
        /// The input ended while a decode loop was running: `decodeLast` runs when it returns.
        case leftoversPending
        case done
        case failed(any Error)
    }

    /// Nil only while a decode loop holds it (a read arriving then is only kept).
    var decoder: Decoder?
    /// Bytes read and not decoded yet; nil when there are none.
    var buffer: ByteBuffer?
    var state = State.active
    var seenEOF = false

    init(_ decoder: Decoder) {
        self.decoder = decoder
    }
}

/// `RequestDecoder` on a client connection.
final class RequestDecodingHandler: DecodingHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = HTTPServerRequestPart
    var decoding: DecodingStorage<RequestDecoder>

    init(_ decoder: RequestDecoder) { decoding = DecodingStorage(decoder) }
}

/// `ResponseDecoder` on an upstream connection.
final class ResponseDecodingHandler: DecodingHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = UpstreamResponsePart
    var decoding: DecodingStorage<ResponseDecoder>

    init(_ decoder: ResponseDecoder) { decoding = DecodingStorage(decoder) }
}

@available(*, unavailable)
extension RequestDecodingHandler: Sendable {}

@available(*, unavailable)
extension ResponseDecodingHandler: Sendable {}

/// The handler's events, for both handlers: these implementations are the classes' (more specific than NIO's
/// defaults, which forward).
extension DecodingHandler {
    func handlerAdded(context: ChannelHandlerContext) {
        decoding.decoder?.decoderAdded(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        switch decoding.state {
        case .active, .leftoversPending: decoding.state = .done
        case .done, .failed: break
        }
        decoding.decoder?.decoderRemoved(context: context)
    }

    /// A read: kept behind what is left, then decoded (unless a decode loop is running: it decodes it).
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if case .failed(let error) = decoding.state {
            context.fireErrorCaught(ByteToMessageDecoderError.dataReceivedInErrorState(error, bytes))
            return
        }
        if decoding.buffer == nil {
            decoding.buffer = bytes
        } else {
            decoding.buffer!.writeBuffer(&bytes)
        }
        guard decoding.decoder != nil, case .active = decoding.state else { return }
        do {
            try decodeLoop(context: context)
            if case .leftoversPending = decoding.state { try decodeLeftovers(context: context) }
        } catch {
            decoding.state = .failed(error)
            context.fireErrorCaught(error)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        decoding.seenEOF = true
        processLeftovers(context: context)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            decoding.seenEOF = true
            processLeftovers(context: context)
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// Calls `decode` while it makes progress and bytes are there. The decoder and the bytes are taken out of
    /// `decoding` for the call, so a read arriving meanwhile only adds to `decoding.buffer`.
    private func decodeLoop(context: ChannelHandlerContext) throws {
        var decoder = decoding.decoder.take()!
        defer { decoding.decoder = decoder }
        while case .active = decoding.state, var input = decoding.buffer.take() {
            let result: DecodingState
            do {
                result = try decoder.decode(context: context, buffer: &input)
            } catch {
                keep(&input)
                throw error
            }
            let arrived = decoding.buffer != nil
            if result == .needMoreData && !arrived && input.readableBytes > 0
                && decoder.shouldReclaimBytes(buffer: input)
            {
                input.discardReadBytes()
            }
            keep(&input)
            if result == .needMoreData && !arrived { return }
        }
    }

    /// `decodeLast` with what is left (an empty buffer when nothing is), now or, while a decode loop runs, when it
    /// returns.
    private func processLeftovers(context: ChannelHandlerContext) {
        guard case .active = decoding.state else { return }
        guard decoding.decoder != nil else {
            decoding.state = .leftoversPending
            return
        }
        do {
            try decodeLeftovers(context: context)
        } catch {
            decoding.state = .failed(error)
            context.fireErrorCaught(error)
        }
    }

    private func decodeLeftovers(context: ChannelHandlerContext) throws {
        var decoder = decoding.decoder.take()!
        defer { decoding.decoder = decoder }
        var input = decoding.buffer.take() ?? context.channel.allocator.buffer(capacity: 0)
        while true {
            let result: DecodingState
            do {
                result = try decoder.decodeLast(context: context, buffer: &input, seenEOF: decoding.seenEOF)
            } catch {
                keep(&input)
                throw error
            }
            keep(&input)
            guard result == .continue, let next = decoding.buffer.take() else { break }
            input = next
        }
        decoding.state = .done
    }

    /// Puts back what `input` has left, with what was read meanwhile behind it.
    private func keep(_ input: inout ByteBuffer) {
        if var arrived = decoding.buffer.take() {
            if input.readableBytes == 0 {
                decoding.buffer = arrived
                return
            }
            input.writeBuffer(&arrived)
        }
        decoding.buffer = input.readableBytes > 0 ? input : nil
    }
}
