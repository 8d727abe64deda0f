import NIOCore
import NIOHTTP1
import TollgateModel

/// Sits in a client connection's pipeline right after NIOHTTP1's request decoder. Requests under `/v1/` are proxied
/// here as NIOHTTP1 parts; everything else passes on to Hummingbird's codec and router. Every response part, the
/// proxy's and Hummingbird's, is encoded here (`ResponseEncoder`) and leaves as bytes.
///
/// Responses go out in request order: while one response (either path) is unfinished, a later pipelined
/// request is held and the connection stops reading; when the response ends the held parts are released
/// (followed by a read-complete, which the async side needs to see them).
final class ProxyHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = IOData

    let shared: ProxyContext
    let pool: UpstreamPool
    var context: ChannelHandlerContext?
    /// Where the connection is in its life; every decision about it is taken there.
    var connection: ConnectionStateMachine
    /// The proxied exchange in flight, if any.
    var exchange: ProxyExchange?
    /// Request parts were written upstream since the last flush (flushed at read-complete, batched).
    var upstreamNeedsFlush = false
    /// A request part from the client is being handled (`channelRead`): a read-complete follows, which flushes.
    var handlingRead = false
    /// The promise of a half-close deferred until the proxied response ends.
    var deferredOutputClosePromise: EventLoopPromise<Void>?
    var idleTimer: Scheduled<Void>?
    /// The read timeout of the exchange in flight, one timer for the connection's exchanges: it is not cancelled when
    /// an exchange ends, only brought forward when one needs it sooner (`scheduleReadTimer`); when it fires, the
    /// exchange's machine tells whether its upstream was quiet too long or when to look again.
    var readTimer: Scheduled<Void>?
    /// When `readTimer` fires.
    var readTimerDeadline = NIODeadline.uptimeNanoseconds(0)
    /// A request whose body is read whole before its exchange exists: the universal endpoint's (its steps name the
    /// provider), or one for a gateway whose spend limits depend on the model the body names.
    var pendingRequest: PendingRequest?
    /// The last proxy URI this connection resolved, taken again for the next request with the same URI.
    var lastRoute: ResolvedRoute?
    /// Encodes the responses written to the client, told each request's method as its head is handed on.
    var encoder = ResponseEncoder()
    /// The content headers of the last response whose record keeps no headers (`FieldLines.packedContentHeaders`).
    var contentHeaders = HeaderList()
    /// Encoded response bytes not written yet (`writeResponse`): they leave at the next flush.
    var unwritten: ByteBuffer?

    init(shared: ProxyContext, pool: UpstreamPool, idleTimeout: TimeAmount? = nil) {
        self.shared = shared
        self.pool = pool
        self.connection = ConnectionStateMachine(now: shared.clock.now(), idleTimeout: idleTimeout)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { scheduleIdleCheck(in: connection.idleTimeout) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        unwritten = nil
        idleTimer?.cancel()
        idleTimer = nil
        readTimer?.cancel()
        readTimer = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        scheduleIdleCheck(in: connection.idleTimeout)
        context.fireChannelActive()
    }

    /// One timer per connection, pushed forward lazily: activity costs nothing until it fires.
    func scheduleIdleCheck(in delay: TimeAmount?) {
        guard let delay, idleTimer == nil, let context else { return }
        idleTimer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            idleTimer = nil
            switch connection.idleCheck(now: shared.clock.now()) {
            case .close: self.context?.close(promise: nil)
            case .checkAgain(let after): scheduleIdleCheck(in: after)
            case .stop: break
            }
        }
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        read(unwrapInboundIn(data), context: context)
    }

    /// A request part straight from the decoder before this handler (`RequestDecoder.receiver`); false when the
    /// handler is not in its pipeline (the decoder fires the part down the pipeline then).
    func received(_ part: HTTPServerRequestPart) -> Bool {
        guard let context else { return false }
        read(part, context: context)
        return true
    }

    private func read(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        handlingRead = true
        perform(connection.received(part, now: shared.clock.now()), part, context: context)
        handlingRead = false
    }

    /// Carries out where the connection machine sent a request part; true when it went to Hummingbird.
    @discardableResult
    func perform(
        _ action: ConnectionStateMachine.PartAction, _ part: HTTPServerRequestPart, context: ChannelHandlerContext
    ) -> Bool {
        switch action {
        case .startExchange:
            guard case .head(let head) = part else { return false }
            encoder.requestStarted(method: head.method)
            beginProxy(head, context: context)
        case .toExchange:
            if pendingRequest != nil {
                switch part {
                case .body(let buffer): pendingBodyPart(buffer)
                case .end: pendingRequestEnded()
                case .head: break
                }
                return false
            }
            guard let exchange else { return false }
            switch part {
            case .body(let buffer): clientBody(buffer, exchange: exchange)
            case .end: clientEnd(exchange: exchange)
            case .head: break
            }
        case .toHummingbird:
            if case .head(let head) = part { encoder.requestStarted(method: head.method) }
            context.fireChannelRead(wrapInboundOut(part))
            return true
        case .hold, .drop:
            break
        }
        return false
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushUpstreamIfNeeded()
        // The request body parts just forwarded are read for the record now, after they left.
        exchange?.scanPassedParts()
        context.fireChannelReadComplete()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if let upstream = exchange?.upstream {
            if context.channel.isWritable { upstream.resumeReads() } else { upstream.pauseReads() }
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        unwritten = nil
        idleTimer?.cancel()
        idleTimer = nil
        readTimer?.cancel()
        readTimer = nil
        pendingRequest = nil
        if connection.inactive() == .abandonExchange, let exchange {
            perform(exchange.machine.clientGone(), exchange: exchange)
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if connection.errorCaught() {
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            switch connection.quiesce() {
            case .forwardToHummingbird: break
            case .closeAfterExchange, .none: return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: Outbound (Hummingbird's responses, reads, close)

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        let isEnd: Bool
        if case .end = part { isEnd = true } else { isEnd = false }
        writeResponse(part, promise: promise, context: context)
        if isEnd, case .releaseHeld = connection.hummingbirdResponseEnded(now: shared.clock.now()) {
            releaseHeld()
        }
    }

    func read(context: ChannelHandlerContext) {
        if connection.read(exchangeBlocksReads: exchangeBlocksReads) == .read { context.read() }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .output && connection.outputCloseRequested() == .deferUntilExchangeEnds {
            deferredOutputClosePromise = promise
            return
        }
        // Gathered bytes go before the close, as every write before it.
        writeUnwritten(context)
        context.close(mode: mode, promise: promise)
    }

    /// Writes a response part to the client, encoded. Small parts are gathered (`unwritten`) and leave as one buffer
    /// at the next flush, at a write with a promise, or before a large part: a response's head, body and end
    /// usually leave in one write.
    func writeResponse(
        _ part: HTTPServerResponsePart, promise: EventLoopPromise<Void>? = nil, context: ChannelHandlerContext
    ) {
        switch encoder.encode(part, allocator: context.channel.allocator) {
        case .bytes(.byteBuffer(let bytes)):
            gather(bytes, promise: promise, context: context)
        case .bytes(let data):
            writeUnwritten(context)
            context.write(wrapOutboundOut(data), promise: promise)
        case .nothing:
            // A promise is kept in order with the writes before it: it goes with the gathered bytes, if any.
            guard let promise else { return }
            if let bytes = unwritten {
                unwritten = nil
                context.write(wrapOutboundOut(.byteBuffer(bytes)), promise: promise)
            } else {
                context.write(
                    wrapOutboundOut(.byteBuffer(context.channel.allocator.buffer(capacity: 0))), promise: promise)
            }
        case .chunk(let header, let data, let trailer):
            gather(header, promise: nil, context: context)
            writeUnwritten(context)
            context.write(wrapOutboundOut(data), promise: nil)
            gather(trailer, promise: promise, context: context)
        case .refused:
            promise?.fail(NIOHTTPResponseEncoderError.responseBodyNotAllowed)
        }
    }

    /// Adds encoded bytes to those gathered, or writes them (and what was gathered) when they are large or carry a
    /// promise.
    func gather(_ bytes: ByteBuffer, promise: EventLoopPromise<Void>?, context: ChannelHandlerContext) {
        if unwritten != nil {
            if unwritten!.readableBytes + bytes.readableBytes <= ResponseEncoder.copyLimit {
                unwritten!.writeImmutableBuffer(bytes)
                if let promise { writeUnwritten(context, promise: promise) }
                return
            }
            writeUnwritten(context)
        }
        if promise != nil || bytes.readableBytes > ResponseEncoder.copyLimit {
            context.write(wrapOutboundOut(.byteBuffer(bytes)), promise: promise)
        } else {
            unwritten = bytes
        }
    }

    /// Writes what was gathered, if anything.
    func writeUnwritten(_ context: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil) {
        guard let bytes = unwritten else { return }
        unwritten = nil
        context.write(wrapOutboundOut(.byteBuffer(bytes)), promise: promise)
    }

    /// Flushes the client connection, with what was gathered.
    func flushClient(_ context: ChannelHandlerContext) {
        writeUnwritten(context)
        context.flush()
    }

    func flush(context: ChannelHandlerContext) {
        flushClient(context)
    }

    // MARK: Flow control

    /// The exchange in flight cannot take request bytes now: no upstream yet, or the upstream is not writable.
    var exchangeBlocksReads: Bool {
        guard let exchange, !exchange.machine.requestEnded else { return false }
        guard let upstream = exchange.upstream else { return !exchange.machine.readsWithoutUpstream }
        return !upstream.isWritable
    }

    func resumeReadsIfPossible() {
        if connection.resumeReads(exchangeBlocksReads: exchangeBlocksReads) == .read { context?.read() }
    }

    func flushUpstreamIfNeeded() {
        if upstreamNeedsFlush {
            upstreamNeedsFlush = false
            exchange?.upstream?.flush()
        }
    }

    /// Hands held requests on after a response ended, until one of them is busy again.
    func releaseHeld() {
        guard let context else { return }
        var fired = false
        // Body parts belong to the request already dispatched and go on at once; a head waits for the
        // response before it to end.
        while let (part, action) = connection.nextHeld(now: shared.clock.now()) {
            if perform(action, part, context: context) { fired = true }
        }
        if fired { context.fireChannelReadComplete() }
        flushUpstreamIfNeeded()
        resumeReadsIfPossible()
    }

    /// Performs a half-close the async side asked for while a proxied response was in flight.
    func performDeferredClose() {
        guard let context else { return }
        let promise = deferredOutputClosePromise
        deferredOutputClosePromise = nil
        context.close(mode: .output, promise: promise)
    }
}
