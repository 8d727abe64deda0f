import NIOCore
import NIOHTTP1
import NIOPosix
import TollgateModel

/// The proxied exchange: request checks, upstream connection, streaming both ways, errors and the record.
extension ProxyHandler: UpstreamDelegate {
    // MARK: Request

    func beginProxy(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let start = NIODeadline.now()
        guard let route = ProxyRoute(uri: head.uri) else {
            return reject(head, .notFound, "not_found", "expected /v1/{account}/{gateway}/{provider}/…", close: false)
        }
        guard let entry = shared.directory.lookup(account: route.account, gateway: route.gateway) else {
            return reject(head, .notFound, "gateway_not_found", "unknown account or gateway", close: false)
        }
        if entry.authentication && !shared.directory.tokens.authorizes(head.headers, account: entry.account) {
            // Refused before anything is forwarded, recorded or counted.
            return reject(head, .unauthorized, "unauthorized", TokenDirectory.gatewayUnauthorizedMessage, close: false)
        }
        guard let target = shared.upstreams[String(route.provider)] else {
            return reject(head, .badRequest, "unknown_provider", shared.unknownProviderMessage, close: false)
        }

        var metadata: [MetadataEntry] = []
        // Every exchange is recorded: as a log, or — collection off, quota used up — as a usage record, so it still
        // counts in usage, costs and reports.
        let record = true
        var logged = entry.collectLogs
        var collectPayload = true
        var chunked = false
        var contentLength: Int?
        var acceptEncoding: String?
        let listed = ProxyHeaders.connectionTokens(head.headers)
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 1)
        headers.add(name: "host", value: target.hostHeader)
        for (name, value) in head.headers {
            if ProxyHeaders.isGatewayHeader(name) {
                if ProxyHeaders.nameEquals(name, "cf-aig-metadata") {
                    do {
                        metadata = try MetadataHeader.parse(value)
                    } catch {
                        return reject(
                            head, .badRequest, "invalid_metadata",
                            "cf-aig-metadata: " + error.message,
                            close: false)
                    }
                } else if ProxyHeaders.nameEquals(name, "cf-aig-custom-cost") {
                    // Checked here so a malformed price is refused before the provider bills the request; the
                    // ingest stage parses it again from the recorded headers.
                    do {
                        _ = try CustomCostHeader.parse(value)
                    } catch {
                        return reject(head, .badRequest, "invalid_custom_cost", error.message, close: false)
                    }
                } else if ProxyHeaders.nameEquals(name, "cf-aig-collect-log") {
                    if Self.isFalse(value) { logged = false }
                } else if ProxyHeaders.nameEquals(name, "cf-aig-collect-log-payload") {
                    if Self.isFalse(value) { collectPayload = false }
                }
                continue
            }
            if ProxyHeaders.isHopByHop(name) {
                if ProxyHeaders.nameEquals(name, "transfer-encoding") { chunked = true }
                continue
            }
            if ProxyHeaders.isHost(name) { continue }
            if !listed.isEmpty && listed.contains(name.lowercased()) { continue }
            if ProxyHeaders.nameEquals(name, "accept-encoding") {
                acceptEncoding = value
                continue
            }
            if ProxyHeaders.nameEquals(name, "content-length") { contentLength = Int(value) }
            headers.add(name: name, value: value)
        }
        // A logged response must be readable: usage is parsed from its body and the logs API serves it. So the
        // upstream is asked for an uncompressed body (LLM responses are small; streams are not compressed anyway).
        if record {
            headers.add(name: "accept-encoding", value: "identity")
        } else if let acceptEncoding {
            headers.add(name: "accept-encoding", value: acceptEncoding)
        }
        if chunked {
            headers.remove(name: "content-length")
            headers.add(name: "transfer-encoding", value: "chunked")
        } else if let contentLength, contentLength > shared.configuration.maxRequestBodyBytes {
            return reject(
                head, .payloadTooLarge, "request_too_large",
                "request body exceeds \(shared.configuration.maxRequestBodyBytes) bytes", close: true)
        }

        if let limit = entry.policy.rateLimit,
            let refusal = shared.controls.admit(
                limit, account: entry.account, gateway: entry.gateway, headers: head.headers, metadata: metadata)
        {
            return reject(
                head, .tooManyRequests, "rate_limited", refusal.message, close: false,
                retryAfter: refusal.retryAfterSeconds)
        }
        if let limits = entry.policy.spendLimits,
            let refusal = shared.controls.admit(
                limits, account: entry.account, gateway: entry.gateway, provider: String(route.provider), model: nil,
                metadata: metadata)
        {
            return reject(
                head, .tooManyRequests, "spend_limit_exceeded", refusal.message, close: false,
                retryAfter: refusal.retryAfterSeconds)
        }

        var admission = LogQuota.Admission.usageOnly
        if logged, let quota = shared.quota {
            admission = quota.admit(account: String(route.account))
            if admission == .reject {
                return reject(
                    head, .tooManyRequests, "log_quota_exceeded",
                    "account \(route.account) has stored its monthly log quota; its gateway refuses requests until "
                        + "the quota resets or is raised",
                    close: false)
            }
        } else if logged {
            admission = .store
        }

        var uri = target.basePath
        uri += route.path
        if let query = route.query {
            uri += "?"
            uri += query
        }
        let upstreamHead = HTTPRequestHead(version: .http1_1, method: head.method, uri: uri, headers: headers)
        let id = shared.generator.next()
        let exchange = ProxyExchange(
            id: id, start: start, route: route, target: target, requestHead: head, upstreamHead: upstreamHead,
            metadata: metadata, record: record, collectPayload: collectPayload,
            captureLimit: shared.configuration.maxCapturedBodyBytes)
        exchange.logged = admission == .store
        exchange.quotaReserved = admission == .store && shared.quota != nil
        if logged && admission == .usageOnly { exchange.logStatus = "quota_exceeded" }
        if let contentLength, contentLength <= exchange.captureLimit {
            exchange.requestBody.reserveCapacity(contentLength)
        }
        if record && !target.streamUsagePaths.isEmpty && head.method == .POST && entry.streamUsage
            && target.streamUsagePaths.contains(where: { $0.utf8.elementsEqual(route.path.utf8) })
            && Self.isJSON(head.headers)
        {
            // A streaming chat completion may need `stream_options.include_usage`: the body is collected first
            // and the head goes upstream with it, framed for what is sent (see `sendHeldRequest`).
            exchange.heldBody = context.channel.allocator.buffer(
                capacity: min(contentLength ?? 1024, shared.configuration.maxRequestBodyBytes))
            if let expect = head.headers.first(name: "expect"), expect.lowercased() == "100-continue" {
                // The upstream sees the head only after the body, so the gateway asks for the body itself.
                exchange.upstreamHead.headers.remove(name: "expect")
                if !Self.isHTTP10(head.version) {
                    context.writeAndFlush(
                        wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .continue))), promise: nil)
                }
            }
        }
        self.exchange = exchange
        if let connection = pool.checkout(target.endpoint) {
            exchange.upstreamReused = true
            attach(connection, exchange: exchange, replay: false)
        } else {
            connect(exchange: exchange, replay: false)
        }
    }

    static func isHTTP10(_ version: HTTPVersion) -> Bool {
        (version.major, version.minor) < (1, 1)
    }

    static func isFalse(_ value: String) -> Bool {
        value.utf8.count == 5 && value.lowercased() == "false"
    }

    /// Whether the request says its body is JSON (`application/json`, with or without parameters).
    static func isJSON(_ headers: HTTPHeaders) -> Bool {
        guard var value = headers.first(name: "content-type") else { return false }
        return value.withUTF8 { bytes in
            var start = bytes.startIndex
            var end = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.endIndex
            while start < end, bytes[start] == 0x20 || bytes[start] == 0x09 { start += 1 }
            while end > start, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 { end -= 1 }
            return ProxyHeaders.equalsLowercase(UnsafeBufferPointer(rebasing: bytes[start..<end]), "application/json")
        }
    }

    func clientBody(_ buffer: ByteBuffer, exchange: ProxyExchange) {
        exchange.captureRequest(buffer)
        if exchange.requestSize > Int64(shared.configuration.maxRequestBodyBytes) {
            return requestTooLarge(exchange)
        }
        if exchange.heldBody != nil {
            exchange.heldBody!.writeImmutableBuffer(buffer)
            exchange.lastUpstreamActivity = .now()
            return
        }
        if let upstream = exchange.upstream {
            upstream.write(.body(.byteBuffer(buffer)))
            upstreamNeedsFlush = true
            exchange.lastUpstreamActivity = .now()
        } else {
            exchange.pending.append(.body(.byteBuffer(buffer)))
        }
    }

    func clientEnd(exchange: ProxyExchange) {
        exchange.requestEnded = true
        if let held = exchange.heldBody {
            exchange.heldBody = nil
            sendHeldRequest(exchange, body: held)
            resumeReadsIfPossible()
            return
        }
        if let upstream = exchange.upstream {
            upstream.write(.end(nil))
            exchange.requestSent = true
            upstreamNeedsFlush = true
        } else {
            exchange.pending.append(.end(nil))
        }
        resumeReadsIfPossible()
    }

    /// Sends a collected request: with `stream_options.include_usage` added when it is a streaming request that
    /// did not ask for usage (then framed with the new content length), otherwise exactly as received.
    func sendHeldRequest(_ exchange: ProxyExchange, body held: ByteBuffer) {
        var body = held
        let rewritten = held.withUnsafeReadableBytes { raw in
            StreamUsageOption.requestingUsage(raw.bindMemory(to: UInt8.self))
        }
        if let rewritten, let context {
            body = context.channel.allocator.buffer(capacity: rewritten.count)
            body.writeBytes(rewritten)
            exchange.upstreamHead.headers.remove(name: "transfer-encoding")
            exchange.upstreamHead.headers.replaceOrAdd(name: "content-length", value: String(rewritten.count))
            exchange.forwardedBody = body
            exchange.injectedStreamUsage = true
        }
        if let upstream = exchange.upstream {
            upstream.write(.head(exchange.upstreamHead))
            if body.readableBytes > 0 { upstream.write(.body(.byteBuffer(body))) }
            upstream.write(.end(nil))
            exchange.requestSent = true
            upstreamNeedsFlush = true
            exchange.lastUpstreamActivity = .now()
        } else {
            // `attach` writes the head, then these.
            if body.readableBytes > 0 { exchange.pending.append(.body(.byteBuffer(body))) }
            exchange.pending.append(.end(nil))
        }
    }

    // MARK: Upstream connection

    func connect(exchange: ProxyExchange, replay: Bool) {
        exchange.upstreamReused = false
        pool.connect(exchange.target).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let channel):
                guard self.exchange === exchange, !exchange.finished,
                    let connection = try? channel.pipeline.syncOperations.handler(type: UpstreamConnection.self)
                else {
                    channel.close(promise: nil)
                    return
                }
                attach(connection, exchange: exchange, replay: replay)
            case .failure(let error):
                guard self.exchange === exchange, !exchange.finished else { return }
                if case ChannelError.connectTimeout = error {
                    fail(exchange, error: .connectTimeout)
                } else {
                    fail(exchange, error: .unreachable(Self.describe(error)))
                }
            }
        }
    }

    func attach(_ connection: UpstreamConnection, exchange: ProxyExchange, replay: Bool) {
        exchange.upstream = connection
        exchange.upstreamResponded = false
        connection.delegate = self
        connection.exchangesServed += 1
        if exchange.heldBody != nil {
            // The body is still being collected; the head goes with it (`sendHeldRequest`).
        } else if replay {
            connection.write(.head(exchange.upstreamHead))
            if let forwarded = exchange.forwardedBody {
                connection.write(.body(.byteBuffer(forwarded)))
            } else if !exchange.requestBody.isEmpty, let context {
                var buffer = context.channel.allocator.buffer(capacity: exchange.requestBody.count)
                buffer.writeBytes(exchange.requestBody)
                connection.write(.body(.byteBuffer(buffer)))
            }
            connection.write(.end(nil))
            exchange.requestSent = true
        } else {
            connection.write(.head(exchange.upstreamHead))
            for part in exchange.pending { connection.write(part) }
            exchange.pending.removeAll()
            if exchange.requestEnded { exchange.requestSent = true }
        }
        connection.flush()
        if let context, !context.channel.isWritable { connection.pauseReads() }
        exchange.lastUpstreamActivity = .now()
        if exchange.readTimer == nil { scheduleReadTimer(exchange, in: shared.configuration.readTimeout) }
        resumeReadsIfPossible()
    }

    func scheduleReadTimer(_ exchange: ProxyExchange, in delay: TimeAmount) {
        guard let context else { return }
        exchange.readTimer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            exchange.readTimer = nil
            guard self.exchange === exchange, !exchange.finished else { return }
            let timeout = shared.configuration.readTimeout
            let quiet = NIODeadline.now() - exchange.lastUpstreamActivity
            if quiet >= timeout {
                detachUpstream(exchange, reuse: false)
                if exchange.responseStarted {
                    cut(exchange, error: .readTimeout)
                } else {
                    fail(exchange, error: .readTimeout)
                }
            } else {
                scheduleReadTimer(exchange, in: timeout - quiet)
            }
        }
    }

    /// Lets go of the exchange's upstream connection: back to the pool when it is clean, closed otherwise.
    func detachUpstream(_ exchange: ProxyExchange, reuse: Bool) {
        exchange.readTimer?.cancel()
        exchange.readTimer = nil
        guard let connection = exchange.upstream else { return }
        exchange.upstream = nil
        connection.delegate = nil
        if reuse && exchange.requestSent && exchange.upstreamKeepAlive && !shared.isShuttingDown {
            pool.checkin(connection)
        } else {
            connection.close()
        }
    }

    // MARK: UpstreamDelegate

    func upstreamRead(_ part: HTTPClientResponsePart) {
        guard let exchange, let context else { return }
        exchange.lastUpstreamActivity = .now()
        exchange.upstreamResponded = true
        switch part {
        case .head(let head):
            if head.status.code < 200 && head.status.code != 101 {
                // Interim (100 Continue, 103 Early Hints): passed on to HTTP/1.1 clients only.
                if !Self.isHTTP10(exchange.requestHead.version) {
                    context.writeAndFlush(
                        wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: head.status))), promise: nil)
                }
                return
            }
            respondHead(head, exchange: exchange, context: context)
        case .body(let buffer):
            if exchange.ttftMicros == nil { exchange.ttftMicros = exchange.microsSinceStart() }
            exchange.captureResponse(buffer)
            if exchange.usageFilter == nil {
                context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            } else if let out = exchange.usageFilter!.filter(buffer) {
                context.write(wrapOutboundOut(.body(.byteBuffer(out))), promise: nil)
            }
        case .end:
            if let rest = exchange.usageFilter?.finish() {
                context.write(wrapOutboundOut(.body(.byteBuffer(rest))), promise: nil)
            }
            detachUpstream(exchange, reuse: true)
            endResponse(exchange, error: nil)
        }
    }

    func respondHead(_ head: HTTPResponseHead, exchange: ProxyExchange, context: ChannelHandlerContext) {
        exchange.statusCode = Int(head.status.code)
        exchange.upstreamKeepAlive = head.isKeepAlive
        let listed = ProxyHeaders.connectionTokens(head.headers)
        var headers = HTTPHeaders()
        headers.reserveCapacity(head.headers.count + 2)
        var captured: [(name: String, value: String)] = []
        captured.reserveCapacity(head.headers.count + 1)
        var hasLength = false
        if exchange.injectedStreamUsage && head.status == .ok && Self.isEventStream(head.headers) {
            exchange.usageFilter = StreamUsageFilter()
        }
        let filtered = exchange.usageFilter != nil
        for (name, value) in head.headers {
            if ProxyHeaders.isHopByHop(name) { continue }
            if !listed.isEmpty && listed.contains(name.lowercased()) { continue }
            if (filtered || !hasLength) && ProxyHeaders.nameEquals(name, "content-length") {
                // A filtered body is shorter than the upstream's: it goes out chunked (or close-delimited).
                if filtered {
                    captured.append((name, value))
                    continue
                }
                hasLength = true
            }
            headers.add(name: name, value: value)
            captured.append((name, value))
        }
        headers.add(name: "cf-aig-log-id", value: exchange.logID)
        captured.append(("cf-aig-log-id", exchange.logID))
        if let status = exchange.logStatus {
            headers.add(name: "cf-aig-log-status", value: "\(status)")
            captured.append(("cf-aig-log-status", "\(status)"))
        }
        let version = exchange.requestHead.version
        if Self.isHTTP10(version) && !hasLength && head.status.mayHaveResponseBody && exchange.method != .HEAD {
            // An HTTP/1.0 client learns where the body ends only from the connection closing.
            exchange.keepClientAlive = false
        }
        if quiescing { exchange.keepClientAlive = false }
        if !exchange.keepClientAlive {
            headers.add(name: "connection", value: "close")
        } else if Self.isHTTP10(version) {
            headers.add(name: "connection", value: "keep-alive")
        }
        exchange.responseHeaders = captured
        exchange.responseStarted = true
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: version, status: head.status, headers: headers))),
            promise: nil)
    }

    static func isEventStream(_ headers: HTTPHeaders) -> Bool {
        guard let value = headers.first(name: "content-type") else { return false }
        return value.utf8.count >= 17 && value.lowercased().hasPrefix("text/event-stream")
    }

    func upstreamReadComplete() {
        context?.flush()
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if isWritable { resumeReadsIfPossible() }
    }

    func upstreamClosed(error: (any Error)?) {
        guard let exchange else { return }
        exchange.upstream = nil
        exchange.readTimer?.cancel()
        exchange.readTimer = nil
        if exchange.responseStarted {
            return cut(exchange, error: Self.midStreamFailure(error))
        }
        if exchange.upstreamReused && !exchange.retried && !exchange.upstreamResponded && exchange.canReplay
            && exchange.isIdempotent
        {
            // A kept-alive connection the upstream had already given up on: try once more on a fresh one.
            exchange.retried = true
            return connect(exchange: exchange, replay: true)
        }
        let failure: ProxyError = error.map { .unreachable(Self.describe($0)) } ?? .closedBeforeResponse
        fail(exchange, error: failure)
    }

    // MARK: Endings

    /// Answers a request the gateway refuses before anything is forwarded; no exchange is recorded.
    func reject(
        _ head: HTTPRequestHead, _ status: HTTPResponseStatus, _ code: StaticString, _ message: String, close: Bool,
        retryAfter: Int? = nil
    ) {
        guard let context else { return }
        if idleTimeout != nil { lastActivity = .now() }
        let keepAlive = head.isKeepAlive && !close && !quiescing
        let (responseHead, body) = GatewayErrorResponse(
            status: status, code: code, message: message, retryAfter: retryAfter
        ).render(version: head.version, logID: nil, close: !keepAlive, allocator: context.channel.allocator)
        context.write(wrapOutboundOut(.head(responseHead)), promise: nil)
        if head.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        responseBusy = false
        if keepAlive {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            releaseHeld()
        } else {
            closeAfterEnd(context)
        }
    }

    /// Answers with the gateway's own 502/504/413 for an exchange whose response has not started, and records it.
    func fail(_ exchange: ProxyExchange, error: ProxyError) {
        guard let context else { return }
        detachUpstream(exchange, reuse: false)
        let status: HTTPResponseStatus
        let code: StaticString
        switch error.code {
        case .upstreamTimeout:
            status = .gatewayTimeout
            code = "upstream_timeout"
        case .requestTooLarge:
            status = .payloadTooLarge
            code = "request_too_large"
        default:
            status = .badGateway
            code = "upstream_unreachable"
        }
        if !exchange.requestEnded || quiescing { exchange.keepClientAlive = false }
        let (head, body) = GatewayErrorResponse(status: status, code: code, message: error.message).render(
            version: exchange.requestHead.version, logID: exchange.logID, close: !exchange.keepClientAlive,
            allocator: context.channel.allocator)
        exchange.statusCode = Int(status.code)
        exchange.responseHeaders = head.headers.map { (name: $0.name, value: $0.value) }
        exchange.responseStarted = true
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if exchange.method != .HEAD {
            exchange.captureResponse(body)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        endResponse(exchange, error: error.message)
    }

    /// Ends the response to the client; records the exchange once the last byte was written.
    func endResponse(_ exchange: ProxyExchange, error: String?) {
        guard let context else { return }
        if idleTimeout != nil { lastActivity = .now() }
        exchange.finished = true
        self.exchange = nil
        responseBusy = false
        let keepAlive = exchange.keepClientAlive && !quiescing
        let promise: EventLoopPromise<Void>? = exchange.record || !keepAlive ? context.eventLoop.makePromise() : nil
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
        if let promise {
            let sink = shared.sink
            promise.futureResult.assumeIsolated().whenComplete { [self] result in
                if exchange.record {
                    var failure = error
                    if failure == nil, case .failure = result { failure = ProxyError.clientDisconnected.message }
                    sink.submit(exchange.makeExchange(error: failure))
                }
                if !keepAlive { self.context?.close(promise: nil) }
            }
        }
        if keepAlive {
            performDeferredClose()
            releaseHeld()
        } else {
            closing = true
            held.removeAll()
        }
    }

    /// Cuts a response that already started: the client sees the connection close before the body ended.
    func cut(_ exchange: ProxyExchange, error: ProxyError) {
        if let rest = exchange.usageFilter?.finish(), let context {
            context.write(wrapOutboundOut(.body(.byteBuffer(rest))), promise: nil)
        }
        detachUpstream(exchange, reuse: false)
        exchange.finished = true
        self.exchange = nil
        responseBusy = false
        closing = true
        held.removeAll()
        if let context {
            context.flush()
            context.close(promise: nil)
        }
        if exchange.record { shared.sink.submit(exchange.makeExchange(error: error.message)) }
    }

    /// The client went away mid-exchange.
    func abort(_ exchange: ProxyExchange, error: ProxyError) {
        detachUpstream(exchange, reuse: false)
        exchange.finished = true
        self.exchange = nil
        responseBusy = false
        if exchange.record { shared.sink.submit(exchange.makeExchange(error: error.message)) }
    }

    func requestTooLarge(_ exchange: ProxyExchange) {
        exchange.keepClientAlive = false
        if exchange.responseStarted {
            cut(exchange, error: .requestTooLarge)
        } else {
            fail(exchange, error: .requestTooLarge)
        }
    }

    /// Ends the response and closes — lingering: for up to a second after the response left, what the client still
    /// sends is read and dropped. Closing a socket with unread input resets the connection, and a reset can destroy
    /// the response in flight (a client still uploading a refused 30 MB body would see "connection reset" instead of
    /// the 413).
    func closeAfterEnd(_ context: ChannelHandlerContext) {
        closing = true
        held.removeAll()
        let promise = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
        promise.futureResult.assumeIsolated().whenComplete { [self] _ in
            guard let context = self.context else { return }
            context.close(mode: .output, promise: nil)
            resumeReadsIfPossible()
            context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) { [self] in
                self.context?.close(promise: nil)
            }
        }
    }

    /// An upstream ending early mid-body shows up as a plain close or as the parser seeing EOF too soon.
    static func midStreamFailure(_ error: (any Error)?) -> ProxyError {
        guard let error else { return .closedMidStream }
        if let parserError = error as? HTTPParserError, parserError == .invalidEOFState { return .closedMidStream }
        return .protocolError(describe(error))
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError {
            if let first = error.connectionErrors.first { return "\(first.error)" }
            if let dns = error.dnsAAAAError ?? error.dnsAError { return "name resolution failed: \(dns)" }
            return "connection failed"
        }
        return "\(error)"
    }
}
