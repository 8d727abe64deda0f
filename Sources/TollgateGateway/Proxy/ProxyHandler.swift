import NIOCore
import NIOHTTP1

/// Sits in a client connection's pipeline right after NIOHTTP1's server codec. Requests under `/v1/` are proxied
/// here as NIOHTTP1 parts; everything else passes on to Hummingbird's codec and router.
///
/// Responses go out in request order: while one response (either path) is unfinished, a later pipelined
/// request is held and the connection stops reading; when the response ends the held parts are released
/// (followed by a read-complete, which the async side needs to see them).
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    /// Where the parts of the request being received go.
    enum Route {
        case none
        /// The proxy; parts are dropped once its exchange ended (e.g. answered early).
        case proxy
        /// Hummingbird.
        case passthrough
    }

    let shared: ProxyContext
    let pool: UpstreamPool
    var context: ChannelHandlerContext?
    var route: Route = .none
    /// A response (either path) is not finished yet.
    var responseBusy = false
    /// Pipelined request parts waiting for the current response to end.
    var held = CircularBuffer<HTTPServerRequestPart>()
    /// The proxied exchange in flight, if any.
    var exchange: ProxyExchange?
    var readPending = false
    var releasing = false
    /// Graceful shutdown asked this connection to close once its response ends.
    var quiescing = false
    /// The connection is being closed by the proxy; nothing more is read or answered.
    var closing = false
    var firedPassthrough = false
    var upstreamNeedsFlush = false
    /// A half-close of the output requested while a proxied response was still being written.
    var deferredOutputClose: (promise: EventLoopPromise<Void>?, pending: Bool) = (nil, false)

    init(shared: ProxyContext, pool: UpstreamPool) {
        self.shared = shared
        self.pool = pool
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if closing { return }
        let part = unwrapInboundIn(data)
        if !held.isEmpty {
            held.append(part)
            return
        }
        dispatch(part, context: context)
    }

    func dispatch(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            if responseBusy {
                held.append(part)
                return
            }
            responseBusy = true
            if ProxyRoute.isProxyURI(head.uri) {
                route = .proxy
                beginProxy(head, context: context)
            } else {
                route = .passthrough
                firedPassthrough = true
                context.fireChannelRead(wrapInboundOut(part))
            }
        case .body(let buffer):
            switch route {
            case .passthrough:
                firedPassthrough = true
                context.fireChannelRead(wrapInboundOut(part))
            case .proxy:
                if let exchange { clientBody(buffer, exchange: exchange) }
            case .none:
                break
            }
        case .end:
            switch route {
            case .passthrough:
                firedPassthrough = true
                context.fireChannelRead(wrapInboundOut(part))
            case .proxy:
                if let exchange { clientEnd(exchange: exchange) }
            case .none:
                break
            }
            route = .none
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushUpstreamIfNeeded()
        firedPassthrough = false
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if let upstream = exchange?.upstream {
            if context.channel.isWritable { upstream.resumeReads() } else { upstream.pauseReads() }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        held.removeAll()
        if let exchange { abort(exchange, error: .clientDisconnected) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if exchange != nil || route == .proxy {
            // A broken request on the proxy path: nothing sensible can follow on this connection.
            closing = true
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            quiescing = true
            if exchange != nil {
                // Hummingbird's connection handler does not know about the proxied exchange: close ourselves
                // when it ends.
                held.removeAll()
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Outbound (Hummingbird's responses, reads, close)

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd: Bool
        if case .end = unwrapOutboundIn(data) { isEnd = true } else { isEnd = false }
        context.write(data, promise: promise)
        if isEnd && exchange == nil && route != .proxy {
            responseBusy = false
            releaseHeld()
        }
    }

    func read(context: ChannelHandlerContext) {
        if shouldPauseReads {
            readPending = true
        } else {
            context.read()
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .output && exchange != nil {
            deferredOutputClose = (promise, true)
            return
        }
        context.close(mode: mode, promise: promise)
    }

    // MARK: Flow control

    var shouldPauseReads: Bool {
        if !held.isEmpty { return true }
        if let exchange, !exchange.requestEnded {
            guard let upstream = exchange.upstream else { return true }
            return !upstream.isWritable
        }
        return false
    }

    func resumeReadsIfPossible() {
        if readPending && !shouldPauseReads {
            readPending = false
            context?.read()
        }
    }

    func flushUpstreamIfNeeded() {
        if upstreamNeedsFlush {
            upstreamNeedsFlush = false
            exchange?.upstream?.flush()
        }
    }

    /// Hands held requests on after a response ended, until one of them is busy again.
    func releaseHeld() {
        guard !releasing, let context else { return }
        releasing = true
        defer { releasing = false }
        var fired = false
        while !responseBusy && !closing, let part = held.popFirst() {
            firedPassthrough = false
            dispatch(part, context: context)
            fired = fired || firedPassthrough
        }
        if fired { context.fireChannelReadComplete() }
        flushUpstreamIfNeeded()
        resumeReadsIfPossible()
    }

    /// Performs a half-close the async side asked for while a proxied response was in flight.
    func performDeferredClose() {
        guard deferredOutputClose.pending, let context else { return }
        let promise = deferredOutputClose.promise
        deferredOutputClose = (nil, false)
        context.close(mode: .output, promise: promise)
    }
}
