import NIOCore
import NIOHTTP1

/// What an upstream connection reports to the exchange using it. Called on the connection's event loop, which is
/// also the client connection's loop.
protocol UpstreamDelegate: AnyObject {
    func upstreamRead(_ part: UpstreamResponsePart)
    func upstreamReadComplete()
    func upstreamWritabilityChanged(isWritable: Bool)
    /// The connection closed or failed while attached; `error` is nil for a plain close.
    func upstreamClosed(error: (any Error)?)
}

/// The last handler of an upstream connection's pipeline (after the response decoder, `ResponseDecoder`): hands
/// response parts to the attached exchange, writes request parts, and lets the exchange pause reading (backpressure).
///
/// Request parts are encoded here (`RequestEncoder`), not by a handler of their own: the bytes written between two
/// flushes go out as one buffer, written below the decoder, which is told each request head (it needs the method to
/// frame the response to a `HEAD`).
final class UpstreamConnection: ChannelDuplexHandler {
    typealias InboundIn = UpstreamResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    let endpoint: UpstreamTarget.Endpoint
    private var context: ChannelHandlerContext?
    /// The response decoder in front of this handler, and its context: request bytes are written from there.
    private let decoder: ResponseDecoder?
    private var wire: ChannelHandlerContext?
    private var encoder = RequestEncoder()
    /// The exchange using the connection; nil while pooled.
    var delegate: (any UpstreamDelegate)?
    /// Set by the pool while the connection is idle in it.
    weak var pool: UpstreamPool?
    /// When the connection went idle (set by the pool at check-in, for its idle timeout).
    var idleSince: NIODeadline = .uptimeNanoseconds(0)
    /// Exchanges served; more than zero means a reused keep-alive connection.
    var exchangesServed = 0
    private var readsPaused = false
    private var readPending = false
    private(set) var isActive = false

    /// `decoder`: the response decoder right before this handler; without one (a pipeline with NIOHTTP1's request
    /// encoder) request parts go on as parts.
    init(endpoint: UpstreamTarget.Endpoint, decoder: ResponseDecoder? = nil) {
        self.endpoint = endpoint
        self.decoder = decoder
    }

    var channel: (any Channel)? { context?.channel }
    /// The response being read runs to the connection's close (no length, not chunked): the connection is not
    /// reused after it, whatever the response's `Connection` header says.
    var responseEndsAtClose: Bool { decoder?.responseEndsAtClose ?? false }
    var isWritable: Bool { context?.channel.isWritable ?? false }
    /// The response being read has a `Connection` header; true when that is not known (no decoder of ours).
    var responseHasConnectionHeader: Bool { decoder?.responseHasConnectionHeader ?? true }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        isActive = context.channel.isActive
        if let decoder {
            wire = try? context.pipeline.syncOperations.context(
                handlerType: ResponseDecodingHandler.self)
            // Right after the decoder's handler: the decoder hands the parts here directly.
            decoder.receiver = self
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        wire = nil
        decoder?.receiver = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        isActive = true
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isActive = false
        if let delegate {
            self.delegate = nil
            delegate.upstreamClosed(error: nil)
        } else {
            pool?.remove(self)
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received(unwrapInboundIn(data))
    }

    /// A response part, from the pipeline or straight from the decoder (`ResponseDecoder.receiver`).
    func received(_ part: UpstreamResponsePart) {
        if let delegate {
            delegate.upstreamRead(part)
        } else {
            // Bytes on an idle connection: the upstream broke the protocol; never reuse it.
            context?.close(promise: nil)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        delegate?.upstreamReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        delegate?.upstreamWritabilityChanged(isWritable: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        isActive = false
        if let delegate {
            self.delegate = nil
            delegate.upstreamClosed(error: error)
        } else {
            pool?.remove(self)
        }
        context.close(promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            // The upstream half-closed: for HTTP/1.1 that ends the connection.
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func read(context: ChannelHandlerContext) {
        if readsPaused {
            readPending = true
        } else {
            context.read()
        }
    }

    // MARK: Used by the exchange

    /// Writes a request part. `recordsResponseHeaders` (for a head): the exchange records the response's headers,
    /// so its head comes with them as strings (`UpstreamResponseHead.recorded`).
    func write(_ part: HTTPClientRequestPart, recordsResponseHeaders: Bool = true) {
        guard let context else { return }
        guard let wire, let decoder else {
            context.write(wrapOutboundOut(part), promise: nil)
            return
        }
        if case .head(let head) = part {
            decoder.requestStarted(method: head.method, recordsHeaders: recordsResponseHeaders)
        }
        if let (before, large) = encoder.encode(part, allocator: context.channel.allocator) {
            // A large body part goes out as it is, after what was encoded before it.
            if let before { wire.write(NIOAny(before), promise: nil) }
            if case .byteBuffer(let bytes) = large {
                wire.write(NIOAny(bytes), promise: nil)
            } else {
                wire.write(NIOAny(large), promise: nil)
            }
        }
    }

    func flush() {
        guard let context else { return }
        if let wire, let pending = encoder.take() { wire.write(NIOAny(pending), promise: nil) }
        context.flush()
    }

    func pauseReads() {
        readsPaused = true
    }

    func resumeReads() {
        guard readsPaused else { return }
        readsPaused = false
        if readPending {
            readPending = false
            context?.read()
        }
    }

    func close() {
        isActive = false
        delegate = nil
        context?.close(promise: nil)
    }
}
