import NIOCore
import NIOHTTP1

/// Serves one connection: collects a request, asks the ``MockResponder`` for the reply and writes it, applying
/// the requested faults (delays, cut streams, closed connections). Keeps the connection alive when the client does.
final class MockHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let responder: MockResponder
    private var requestHead: HTTPRequestHead?
    private var requestBody: ByteBuffer?
    private var bodyTooLarge = false
    private var pendingTask: Scheduled<Void>?
    /// Set once the connection is being closed: requests still buffered in the pipeline are then dropped
    /// rather than answered after an unterminated response.
    private var isClosing = false
    /// The last plain (no `x-mock-*` headers) successful exchange on this connection. Replies are a
    /// pure function of path and body, so a repeat of it reuses the formatted body with a fresh request id —
    /// benchmarks send the same request over and over.
    private var lastExchange: (method: HTTPMethod, uri: String, body: ByteBuffer, reply: MockReply)?

    init(responder: MockResponder) {
        self.responder = responder
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !isClosing else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            requestHead = head
            requestBody = nil
            bodyTooLarge = false
        case .body(var chunk):
            guard !bodyTooLarge else { return }
            if requestBody == nil {
                requestBody = chunk
            } else {
                requestBody!.writeBuffer(&chunk)
            }
            if requestBody!.readableBytes > responder.configuration.maximumBodySize {
                bodyTooLarge = true
                requestBody = nil
            }
        case .end:
            guard let head = requestHead else { return }
            requestHead = nil
            let body = requestBody ?? ByteBuffer()
            requestBody = nil
            let reply: MockReply
            if bodyTooLarge {
                let family: MockResponder.Family = head.uri.hasPrefix("/v1/messages") ? .anthropic : .openAI
                reply = responder.errorReply(
                    status: 413, message: "Request body too large.", family: family,
                    requestID: responder.counter.next(), fault: MockFault(), allocator: context.channel.allocator)
            } else if let last = lastExchange, last.method == head.method, last.uri == head.uri, last.body == body,
                !Self.hasMockHeaders(head)
            {
                var repeated = last.reply
                responder.renumber(&repeated)
                reply = repeated
            } else {
                reply = responder.respond(head: head, body: body, allocator: context.channel.allocator)
                if reply.status == .ok, !Self.hasMockHeaders(head) {
                    lastExchange = (head.method, head.uri, body, reply)
                } else {
                    lastExchange = nil
                }
            }
            send(reply, for: head, context: context)
        }
    }

    private static func hasMockHeaders(_ head: HTTPRequestHead) -> Bool {
        head.headers.contains(name: "x-mock-fault") || head.headers.contains(name: "x-mock-usage")
            || head.headers.contains(name: "x-mock-reply-words")
    }

    func channelInactive(context: ChannelHandlerContext) {
        isClosing = true
        pendingTask?.cancel()
        pendingTask = nil
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        close(context: context)
    }

    private func close(context: ChannelHandlerContext) {
        isClosing = true
        context.close(promise: nil)
    }

    private func send(_ reply: MockReply, for request: HTTPRequestHead, context: ChannelHandlerContext) {
        if reply.fault.close {
            close(context: context)
            return
        }
        var headers = reply.headers
        var keepAlive = request.isKeepAlive
        let isHTTP10 = request.version.major == 1 && request.version.minor == 0
        if case .events = reply.body, isHTTP10 {
            keepAlive = false  // no chunked encoding: the end of the body is the end of the connection
        }
        if !keepAlive {
            headers.replaceOrAdd(name: "connection", value: "close")
        } else if isHTTP10 {
            headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        let head = HTTPResponseHead(version: request.version, status: reply.status, headers: headers)
        let delay = reply.fault.delayMilliseconds
        guard delay > 0 else {
            write(head, reply, keepAlive: keepAlive, context: context)
            return
        }
        pendingTask = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(delay))) {
            self.pendingTask = nil
            guard context.channel.isActive else { return }
            self.write(head, reply, keepAlive: keepAlive, context: context)
        }
    }

    private func write(_ head: HTTPResponseHead, _ reply: MockReply, keepAlive: Bool, context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        switch reply.body {
        case .full(let body):
            if let cut = reply.fault.cutAfter {
                let length = min(cut, body.readableBytes)
                if length > 0, let slice = body.getSlice(at: body.readerIndex, length: length) {
                    context.write(wrapOutboundOut(.body(.byteBuffer(slice))), promise: nil)
                }
                context.flush()
                close(context: context)
                return
            }
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            finish(keepAlive: keepAlive, context: context)
        case .events(let events):
            writeEvents(events, from: 0, fault: reply.fault, keepAlive: keepAlive, context: context)
        }
    }

    /// Writes events from `start` on; with a chunk delay, flushes and schedules the rest one event at a time.
    private func writeEvents(
        _ events: [ByteBuffer], from start: Int, fault: MockFault, keepAlive: Bool, context: ChannelHandlerContext
    ) {
        var index = start
        while index < events.count {
            if let cut = fault.cutAfter, index >= cut { break }
            // Every event after the first written by this call waits for the chunk delay.
            if fault.chunkDelayMilliseconds > 0, index > start {
                context.flush()
                let next = index
                pendingTask = context.eventLoop.assumeIsolated().scheduleTask(
                    in: .milliseconds(Int64(fault.chunkDelayMilliseconds))
                ) {
                    self.pendingTask = nil
                    guard context.channel.isActive else { return }
                    self.writeEvents(events, from: next, fault: fault, keepAlive: keepAlive, context: context)
                }
                return
            }
            context.write(wrapOutboundOut(.body(.byteBuffer(events[index]))), promise: nil)
            index += 1
        }
        if fault.cutAfter != nil {
            context.flush()
            close(context: context)
            return
        }
        finish(keepAlive: keepAlive, context: context)
    }

    private func finish(keepAlive: Bool, context: ChannelHandlerContext) {
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            isClosing = true
            context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                context.close(promise: nil)
            }
        }
    }
}
