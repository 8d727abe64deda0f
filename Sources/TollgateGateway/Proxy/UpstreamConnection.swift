import NIOCore
import NIOHTTP1

/// What an upstream connection reports to the exchange using it. Called on the connection's event loop, which is
/// also the client connection's loop.
protocol UpstreamDelegate: AnyObject {
    func upstreamRead(_ part: HTTPClientResponsePart)
    func upstreamReadComplete()
    func upstreamWritabilityChanged(isWritable: Bool)
    /// The connection closed or failed while attached; `error` is nil for a plain close.
    func upstreamClosed(error: (any Error)?)
}

/// The last handler of an upstream connection's pipeline (after the HTTP client codec): hands response parts to
/// the attached exchange, writes request parts, and lets the exchange pause reading (backpressure).
final class UpstreamConnection: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    let endpoint: UpstreamTarget.Endpoint
    private var context: ChannelHandlerContext?
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

    init(endpoint: UpstreamTarget.Endpoint) {
        self.endpoint = endpoint
    }

    var channel: (any Channel)? { context?.channel }
    var isWritable: Bool { context?.channel.isWritable ?? false }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        isActive = context.channel.isActive
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
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
        let part = unwrapInboundIn(data)
        if let delegate {
            delegate.upstreamRead(part)
        } else {
            // Bytes on an idle connection: the upstream broke the protocol; never reuse it.
            context.close(promise: nil)
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

    func write(_ part: HTTPClientRequestPart) {
        context?.write(wrapOutboundOut(part), promise: nil)
    }

    func flush() {
        context?.flush()
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
