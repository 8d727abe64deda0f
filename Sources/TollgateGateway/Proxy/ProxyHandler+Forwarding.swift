import NIOCore
import NIOHTTP1
import NIOPosix
import TollgateModel

/// The proxied exchange: request checks, then carrying out what its state machine (`ExchangeStateMachine`) says —
/// upstream connection, streaming both ways, endings and the record.
extension ProxyHandler: UpstreamDelegate {
    // MARK: Request

    func beginProxy(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let start = shared.clock.now()
        let resolved: ResolvedRoute
        if let last = lastRoute, last.answers(head.uri, in: shared.directory) {
            guard authorizes(head, last.entry) else { return }
            resolved = last
        } else {
            guard let route = ProxyRoute(uri: head.uri) else {
                if head.method.isPOST, let (account, gateway) = ProxyRoute.universal(uri: head.uri) {
                    return beginUniversal(head, account: account, gateway: gateway, start: start)
                }
                return reject(
                    head, .notFound, "not_found", "expected /v1/{account}/{gateway}/{provider}/…", close: false)
            }
            // Read before the directories: a change while they are read makes the next request resolve again.
            let gateways = shared.directory.generation
            let customProviders = shared.directory.customProviders.generation
            guard let entry = authorizedGateway(head, account: route.account, gateway: route.gateway) else { return }
            guard let provider = shared.upstream(route.provider, account: entry.account) else {
                return reject(head, .badRequest, "unknown_provider", shared.unknownProviderMessage, close: false)
            }
            // A templated provider's path names its host; one that does not is refused before anything is forwarded.
            let target: UpstreamTarget
            let upstreamPath: String
            do {
                (target, upstreamPath) = try provider.resolved(route.path, account: route.account)
            } catch {
                return reject(head, .badRequest, "invalid_provider_path", error.message, close: false)
            }
            resolved = ResolvedRoute(
                uri: head.uri, route: route, entry: entry, target: target, upstreamPath: upstreamPath,
                names: route.names, gateways: gateways, customProviders: customProviders)
            lastRoute = resolved
        }
        let entry = resolved.entry
        if let limits = entry.policy.spendLimits, limits.needsModel, head.method.isPOST {
            // A rule scoped by model applies only to the models it names: the body says which one this is.
            return collectBeforeAdmission(
                head, entry: entry, start: start,
                purpose: .modelScoped(resolved.route, resolved.target, upstreamPath: resolved.upstreamPath))
        }
        startProxy(
            head, entry: entry, target: resolved.target, upstreamPath: resolved.upstreamPath, route: resolved.route,
            names: resolved.names, start: start, model: nil, collectedBody: nil)
    }

    /// Admits the request and starts its exchange. `collectedBody`: the whole body, read before admission (the
    /// client has sent everything); `model`: what it names, for the spend limits.
    func startProxy(
        _ head: HTTPRequestHead, entry: GatewayDirectory.Entry, target: UpstreamTarget, upstreamPath: String,
        route: ProxyRoute, names: RouteNames, start: NIODeadline, model: String?, collectedBody: ByteBuffer?
    ) {
        guard let context else { return }
        guard let admitted = admit(head, entry: entry, target: target, route: route, start: start, model: model)
        else { return }
        let controls = admitted.controls
        if !admitted.chunked, let contentLength = admitted.contentLength,
            contentLength > shared.configuration.maxRequestBodyBytes
        {
            return reject(
                head, .payloadTooLarge, "request_too_large",
                "request body exceeds \(shared.configuration.maxRequestBodyBytes) bytes", close: true)
        }

        var uri = upstreamPath
        if let query = route.query {
            uri += "?"
            uri += query
        }
        let upstreamHead = HTTPRequestHead(
            version: .http1_1, method: head.method, uri: uri, headers: admitted.upstreamHeaders)
        // A streaming chat completion may need `stream_options.include_usage`: the body is collected first and the
        // head goes upstream with it, framed for what is sent (see `sendCollectedRequest`).
        let rewritesStreamUsage =
            !target.streamUsagePaths.isEmpty && head.method.isPOST && entry.streamUsage
            && target.streamUsagePaths.contains(where: { ProxyHeaders.bytesEqual($0, route.path) })
            && Self.isJSON(contentType: admitted.contentType)
        // A request that may be tried again is collected whole first, so every attempt sends the same bytes.
        // So is one the gateway signs (SigV4 hashes the exact body).
        let collects =
            rewritesStreamUsage || controls.retry.maxAttempts > 1 || collectedBody != nil || admitted.signing != nil
        let cacheable = caching(controls, method: head.method, rewritesForUsage: rewritesStreamUsage)
        let machine = ExchangeStateMachine(
            start: start, collectsBody: collects, readTimeout: shared.configuration.readTimeout,
            idempotent: ProxyExchange.isIdempotent(head.method), http10Client: Self.isHTTP10(head.version),
            requestTimeout: controls.requestTimeout.map { .milliseconds(Int64($0)) }, retry: controls.retry,
            cacheLookup: cacheable != nil)
        let exchange = ProxyExchange(
            id: shared.nextLogID(), machine: machine,
            names: names, target: target, requestHead: head,
            upstreamHead: upstreamHead, metadata: admitted.metadata, collectPayload: admitted.collectPayload,
            captureLimit: shared.configuration.maxCapturedBodyBytes,
            keepClientAlive: ProxyHeaders.isKeepAlive(head, connectionHeader: admitted.connectionHeader))
        exchange.eventID = admitted.eventID
        exchange.recordedList = admitted.recordedHeaders
        exchange.rewritesStreamUsage = rewritesStreamUsage
        exchange.caching = cacheable
        exchange.signing = admitted.signing
        admitted.apply(to: exchange, quota: shared.quota != nil)
        if exchange.capturesBodies, let contentLength = admitted.contentLength, contentLength <= exchange.captureLimit {
            exchange.requestBody.reserveCapacity(contentLength)
        }
        if collects || cacheable != nil {
            exchange.heldBody = context.channel.allocator.buffer(
                capacity: min(admitted.contentLength ?? 1024, shared.configuration.maxRequestBodyBytes))
            if let expect = admitted.expect, expect.lowercased() == "100-continue" {
                // The upstream sees the head only after the body, so the gateway asks for the body itself.
                exchange.upstreamHead.headers.remove(name: "expect")
                if !Self.isHTTP10(head.version) {
                    writeResponse(.head(HTTPResponseHead(version: .http1_1, status: .continue)), context: context)
                    flushClient(context)
                }
            }
        }
        self.exchange = exchange
        if let collectedBody {
            // The client has sent everything: the exchange takes the body as if it arrived now.
            clientBody(collectedBody, exchange: exchange)
            clientEnd(exchange: exchange)
        }
        // A cacheable request goes upstream only once its whole body was looked up (`lookUpCache`).
        if cacheable != nil || self.exchange !== exchange { return }
        goUpstream(exchange)
    }

    /// Sends the exchange's request upstream, on a pooled connection or a new one.
    func goUpstream(_ exchange: ProxyExchange) {
        if let connection = pool.checkout(exchange.target.endpoint) {
            attach(connection, exchange: exchange, reused: true)
        } else {
            connect(exchange: exchange)
        }
    }

    /// The gateway a request names, when it exists and the request may use it; otherwise the request is answered.
    func authorizedGateway(_ head: HTTPRequestHead, account: Substring, gateway: Substring) -> GatewayDirectory.Entry? {
        guard let entry = shared.directory.lookup(account: account, gateway: gateway) else {
            reject(head, .notFound, "gateway_not_found", "unknown account or gateway", close: false)
            return nil
        }
        return authorizes(head, entry) ? entry : nil
    }

    /// Whether the request may use the gateway: any request when it does not ask for authentication, else one
    /// with a token of the gateway's account (refused otherwise).
    func authorizes(_ head: HTTPRequestHead, _ entry: GatewayDirectory.Entry) -> Bool {
        if entry.authentication && !shared.directory.tokens.authorizes(head.headers, account: entry.account) {
            // Refused before anything is forwarded, recorded or counted.
            reject(head, .unauthorized, "unauthorized", TokenDirectory.gatewayUnauthorizedMessage, close: false)
            return false
        }
        return true
    }

    /// What a request that passed the gateway's checks carries into its exchange.
    struct Admitted {
        /// The client's headers as they go upstream (hop-by-hop and `cf-aig-*` ones dropped, `host` the
        /// provider's, an identity `accept-encoding`).
        var upstreamHeaders: HTTPHeaders
        var metadata: [MetadataEntry]
        var eventID: String?
        var collectPayload: Bool
        var chunked: Bool
        var contentLength: Int?
        var controls: RequestControls
        var admission: LogQuota.Admission
        /// The request asked for a log (the gateway collects logs and `cf-aig-collect-log` did not say false).
        var logged: Bool
        /// Set when the request is signed with a stored AWS key (Bedrock): its body is collected first.
        var signing: AWSSigning?
        /// The client's request has a `Connection` header (else whether it keeps alive follows from its version).
        var connectionHeader: Bool
        /// The client's headers as the record keeps them, in order.
        var recordedHeaders: [(name: String, value: String)]
        /// The client's first `content-type` and `expect` values.
        var contentType: String?
        var expect: String?

        /// Sets what the exchange keeps of itself; `quota`: the gateway keeps log quotas (a stored log reserved its
        /// place).
        func apply(to exchange: ProxyExchange, quota: Bool) {
            exchange.logged = admission == .store
            exchange.capturesBodies = exchange.logged && collectPayload
            exchange.quotaReserved = admission == .store && quota
            if logged && admission == .usageOnly { exchange.logStatus = "quota_exceeded" }
        }
    }

    /// Reads the request's `cf-aig-*` headers and applies the gateway's controls — rate limit, spend limits, log
    /// quota — in that order; nil when the request was refused (and answered). Bad headers are refused before any
    /// budget is counted. Every exchange is recorded: as a log, or — collection off, quota used up — as a usage
    /// record, so it still counts in usage, costs and reports.
    func admit(
        _ head: HTTPRequestHead, entry: GatewayDirectory.Entry, target: UpstreamTarget, route: ProxyRoute,
        start: NIODeadline, model: String?
    ) -> Admitted? {
        var metadata: [MetadataEntry] = []
        var eventID: String?
        var logged = entry.collectLogs
        var collectPayload = true
        var chunked = false
        var contentLength: Int?
        var byokAlias: String?
        var ownProviderKey = Self.queryHasKey(route.query)
        // Whether the request sends a `cf-aig-*` header other than those read here: only then are the controls'
        // headers looked for (`RequestControls`).
        var otherGatewayHeaders = false
        let placement = entry.authentication ? providerKeyPlacement(provider: route.provider, target: target) : nil
        // Whether the client sent `Connection`, noted in the pass below: most requests do not, and the headers it
        // lists (dropped as hop-by-hop) are then taken out of what was forwarded afterwards.
        var connectionHeader = false
        // Collected as a plain list, made `HTTPHeaders` once (each `add` checks the name again).
        var forwarded: [(String, String)] = []
        forwarded.reserveCapacity(head.headers.count + 2)
        forwarded.append(("host", target.hostHeader))
        // The record's copy of the client's headers, made in this pass rather than another one over `HTTPHeaders`.
        var recorded: [(name: String, value: String)] = []
        recorded.reserveCapacity(head.headers.count)
        var contentType: String?
        var expect: String?
        for (name, value) in head.headers {
            recorded.append((name, value))
            if ProxyHeaders.isGatewayHeader(name) {
                if ProxyHeaders.nameEquals(name, GatewayHeader.metadata) {
                    do {
                        metadata = try MetadataHeader.parse(value)
                    } catch {
                        reject(
                            head, .badRequest, "invalid_metadata", GatewayHeader.metadata.name + ": " + error.message,
                            close: false)
                        return nil
                    }
                } else if ProxyHeaders.nameEquals(name, GatewayHeader.customCost) {
                    // Checked here so a malformed price is refused before the provider bills the request; the
                    // ingest stage parses it again from the recorded headers.
                    do {
                        _ = try CustomCostHeader.parse(value)
                    } catch {
                        reject(head, .badRequest, "invalid_custom_cost", error.message, close: false)
                        return nil
                    }
                } else if ProxyHeaders.nameEquals(name, GatewayHeader.collectLog) {
                    if Self.isFalse(value) { logged = false }
                } else if ProxyHeaders.nameEquals(name, GatewayHeader.collectLogPayload) {
                    if Self.isFalse(value) { collectPayload = false }
                } else if ProxyHeaders.nameEquals(name, GatewayHeader.eventID) {
                    guard Self.isEventID(value) else {
                        reject(
                            head, .badRequest, "invalid_header",
                            GatewayHeader.eventID.name + ": expected 1 to 128 visible ASCII characters", close: false)
                        return nil
                    }
                    eventID = value
                } else if ProxyHeaders.nameEquals(name, GatewayHeader.byokAlias) {
                    byokAlias = value
                } else {
                    otherGatewayHeaders = true
                }
                continue
            }
            if ProxyHeaders.isHopByHop(name) {
                if ProxyHeaders.nameEquals(name, "transfer-encoding") { chunked = true }
                if ProxyHeaders.isConnection(name) { connectionHeader = true }
                continue
            }
            if ProxyHeaders.isHost(name) { continue }
            // The first of each, as `HTTPHeaders.first(name:)` would find it; the length rules out most names.
            switch name.utf8.count {
            case 12 where contentType == nil && ProxyHeaders.nameEquals(name, "content-type"): contentType = value
            case 6 where expect == nil && ProxyHeaders.nameEquals(name, "expect"): expect = value
            default: break
            }
            if ProxyHeaders.nameEquals(name, "accept-encoding") { continue }
            if ProxyHeaders.nameEquals(name, "content-length") { contentLength = Int(value) }
            if Self.isOwnProviderKey(name: name, value: value, placement: placement) { ownProviderKey = true }
            forwarded.append((name, value))
        }
        // The headers `Connection` lists are the hop's own: not forwarded, and not read for a length or a key.
        let listed = connectionHeader ? ProxyHeaders.connectionTokens(head.headers) : []
        if !listed.isEmpty {
            forwarded.removeAll { listed.contains($0.0.lowercased()) }
            contentLength = nil
            ownProviderKey = Self.queryHasKey(route.query)
            // The pass's two reads again (a local function for them boxed the variables it sets: an allocation a
            // request).
            for (name, value) in forwarded.dropFirst() {
                if ProxyHeaders.nameEquals(name, "content-length") { contentLength = Int(value) }
                if Self.isOwnProviderKey(name: name, value: value, placement: placement) { ownProviderKey = true }
            }
        }
        // The list is given up, so adding to the headers below appends in place instead of copying them.
        var headers = HTTPHeaders(consume forwarded)
        // The account's stored key, for a request that passed `cf-aig-authorization` and brought no key of its own.
        var signing: AWSSigning?
        if entry.authentication && !ownProviderKey, let placement {
            let keys = shared.directory.providerKeys
            let alias = byokAlias ?? ProviderKeyDirectory.defaultAlias
            switch keys.lookup(account: entry.account, provider: route.provider, alias: alias) {
            case .key(let secret)?:
                placement.add(secret, to: &headers)
            case .aws(let credentials, let region)?:
                // The client's signature is for its own key: the gateway signs once the body is whole.
                for name in Self.clientSignatureHeaders { headers.remove(name: name) }
                signing = AWSSigning(credentials: credentials, region: Self.bedrockRegion(route.path) ?? region)
            case nil where byokAlias != nil:
                reject(
                    head, .badRequest, "unknown_byok_alias",
                    "\(GatewayHeader.byokAlias.name): no stored \(route.provider) key with alias \(alias)", close: false
                )
                return nil
            case nil:
                break
            }
        }
        // A recorded response must be readable: usage is parsed from its body and the logs API serves it. So the
        // upstream is asked for an uncompressed body (LLM responses are small; streams are not compressed anyway).
        headers.add(name: "accept-encoding", value: "identity")
        if chunked {
            headers.remove(name: "content-length")
            headers.add(name: "transfer-encoding", value: "chunked")
        }

        let controls: RequestControls
        do {
            controls =
                otherGatewayHeaders
                ? try RequestControls(head.headers, policy: entry.policy) : RequestControls(policy: entry.policy)
        } catch {
            reject(head, .badRequest, "invalid_header", error.description, close: false)
            return nil
        }
        if let limit = entry.policy.rateLimit,
            let refusal = shared.controls.admit(
                limit, account: entry.account, gateway: entry.gateway, headers: head.headers, metadata: metadata)
        {
            recordRefusal(.rateLimited, head: head, route: route, metadata: metadata, eventID: eventID, start: start)
            reject(
                head, .tooManyRequests, "rate_limited", refusal.message, close: false,
                retryAfter: refusal.retryAfterSeconds)
            return nil
        }
        if let limits = entry.policy.spendLimits,
            let refusal = shared.controls.admit(
                limits, account: entry.account, gateway: entry.gateway, provider: String(route.provider), model: model,
                metadata: metadata)
        {
            recordRefusal(
                .spendLimitExceeded, head: head, route: route, metadata: metadata, eventID: eventID, start: start)
            reject(
                head, .tooManyRequests, "spend_limit_exceeded", refusal.message, close: false,
                retryAfter: refusal.retryAfterSeconds)
            return nil
        }

        var admission = LogQuota.Admission.usageOnly
        if logged, let quota = shared.quota {
            admission = quota.admit(account: String(route.account))
            if admission == .reject {
                reject(
                    head, .tooManyRequests, "log_quota_exceeded",
                    "account \(route.account) has stored its monthly log quota; its gateway refuses requests until "
                        + "the quota resets or is raised",
                    close: false)
                return nil
            }
        } else if logged {
            admission = .store
        }
        return Admitted(
            upstreamHeaders: headers, metadata: metadata, eventID: eventID, collectPayload: collectPayload,
            chunked: chunked, contentLength: contentLength, controls: controls, admission: admission, logged: logged,
            signing: signing, connectionHeader: connectionHeader, recordedHeaders: recorded, contentType: contentType,
            expect: expect)
    }

    /// A `cf-aig-event-id` the gateway stores and echoes: 1 to 128 visible ASCII characters.
    static func isEventID(_ value: String) -> Bool {
        let utf8 = value.utf8
        return (1...128).contains(utf8.count) && utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    /// Records a request the gateway refused before calling a provider, as a usage record (never a log): it counts in
    /// usage without counting against the log quota.
    func recordRefusal(
        _ refusal: GatewayRefusal, head: HTTPRequestHead, route: ProxyRoute, metadata: [MetadataEntry],
        eventID: String?, start: NIODeadline
    ) {
        let id = shared.nextLogID()
        // No headers: the record is never a log, and a `cf-aig-custom-cost` must not price a request that was not made.
        var record = Exchange(
            id: id, startedAt: id.milliseconds, account: String(route.account), gateway: String(route.gateway),
            provider: String(route.provider), method: head.method.rawValue, path: String(route.path),
            query: route.query.map(String.init), requestHeaders: [], requestBody: [], statusCode: 429,
            responseHeaders: [], responseBody: [], responseSize: 0, requestSize: 0,
            durationMicros: (shared.clock.now() - start).nanoseconds / 1000, ttftMicros: nil, error: refusal.rawValue,
            metadata: metadata, collectPayload: false, logged: false, quotaReserved: false,
            requestSummary: RequestSummary(), responseUsage: ResponseUsage())
        record.refusal = refusal
        record.eventID = eventID
        shared.sink.submit(record)
    }

    static func isHTTP10(_ version: HTTPVersion) -> Bool {
        (version.major, version.minor) < (1, 1)
    }

    static func isFalse(_ value: String) -> Bool {
        value.utf8.count == 5 && value.lowercased() == "false"
    }

    /// Whether the request says its body is JSON (`application/json`, with or without parameters).
    static func isJSON(contentType: String?) -> Bool {
        guard var value = contentType else { return false }
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
        let action = exchange.machine.clientBody(
            total: exchange.requestSize, limit: shared.configuration.maxRequestBodyBytes, now: shared.clock.now())
        switch action {
        case .collectRequestBody:
            exchange.heldBody?.writeImmutableBuffer(buffer)
        case .forwardRequestBody:
            exchange.upstream?.write(.body(.byteBuffer(buffer)))
            upstreamNeedsFlush = true
        case .queueRequestBody:
            exchange.pending.append(.body(.byteBuffer(buffer)))
        default:
            perform(action, exchange: exchange)
        }
    }

    func clientEnd(exchange: ProxyExchange) {
        let action = exchange.machine.clientEnd()
        switch action {
        case .forwardRequestEnd:
            exchange.upstream?.write(.end(nil))
            upstreamNeedsFlush = true
        case .queueRequestEnd:
            exchange.pending.append(.end(nil))
        case .sendCollectedRequest(let upstreamAttached):
            sendCollectedRequest(exchange, upstreamAttached: upstreamAttached)
        default:
            perform(action, exchange: exchange)
        }
        resumeReadsIfPossible()
    }

    /// Sends a collected request: with `stream_options.include_usage` added when it is a streaming request that
    /// did not ask for usage (then framed with the new content length), otherwise exactly as received.
    func sendCollectedRequest(_ exchange: ProxyExchange, upstreamAttached: Bool) {
        guard let held = exchange.heldBody else { return }
        exchange.heldBody = nil
        var body = held
        let rewritten =
            !exchange.rewritesStreamUsage
            ? nil
            : held.withUnsafeReadableBytes { raw in
                StreamUsageOption.requestingUsage(raw.bindMemory(to: UInt8.self))
            }
        if let rewritten, let context {
            body = context.channel.allocator.buffer(capacity: rewritten.count)
            body.writeBytes(rewritten)
            exchange.upstreamHead.headers.remove(name: "transfer-encoding")
            exchange.upstreamHead.headers.replaceOrAdd(name: "content-length", value: String(rewritten.count))
            exchange.injectedStreamUsage = true
        }
        if let signing = exchange.signing {
            signForBedrock(&exchange.upstreamHead, body: body, signing: signing)
        }
        exchange.forwardedBody = body
        if upstreamAttached, let upstream = exchange.upstream {
            upstream.write(.head(exchange.upstreamHead), recordsResponseHeaders: exchange.recordsResponseHeaders)
            if body.readableBytes > 0 { upstream.write(.body(.byteBuffer(body))) }
            upstream.write(.end(nil))
            upstreamNeedsFlush = true
            exchange.machine.collectedRequestSent(now: shared.clock.now())
        } else {
            // The head goes with these once an upstream is attached (`sendRequest`).
            if body.readableBytes > 0 { exchange.pending.append(.body(.byteBuffer(body))) }
            exchange.pending.append(.end(nil))
        }
    }

    // MARK: Upstream connection

    func connect(exchange: ProxyExchange) {
        pool.connect(exchange.target).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let channel):
                guard let connection = try? channel.pipeline.syncOperations.handler(type: UpstreamConnection.self)
                else {
                    channel.close(promise: nil)
                    return
                }
                attach(connection, exchange: exchange, reused: false)
            case .failure(let error):
                let failure: ProxyError
                if case ChannelError.connectTimeout = error {
                    failure = .connectTimeout
                } else {
                    failure = .unreachable(ProxyError.describe(error))
                }
                perform(exchange.machine.upstreamConnectFailed(failure), exchange: exchange)
            }
        }
    }

    func attach(_ connection: UpstreamConnection, exchange: ProxyExchange, reused: Bool) {
        let action = exchange.machine.upstreamAttached(reused: reused, now: shared.clock.now())
        switch action {
        case .sendRequest, .replayRequest, .awaitCollectedBody:
            break
        default:
            // The exchange ended while the connection was being opened.
            connection.close()
            return
        }
        exchange.upstream = connection
        connection.delegate = self
        connection.exchangesServed += 1
        switch action {
        case .sendRequest:
            connection.write(.head(exchange.upstreamHead), recordsResponseHeaders: exchange.recordsResponseHeaders)
            for part in exchange.pending { connection.write(part) }
            exchange.pending.removeAll()
        case .replayRequest:
            connection.write(.head(exchange.upstreamHead), recordsResponseHeaders: exchange.recordsResponseHeaders)
            if let forwarded = exchange.forwardedBody {
                connection.write(.body(.byteBuffer(forwarded)))
            } else if !exchange.requestBody.isEmpty, let context {
                var buffer = context.channel.allocator.buffer(capacity: exchange.requestBody.count)
                buffer.writeBytes(exchange.requestBody)
                connection.write(.body(.byteBuffer(buffer)))
            }
            connection.write(.end(nil))
        default:
            // `awaitCollectedBody`: the head goes with the body (`sendCollectedRequest`).
            break
        }
        if handlingRead {
            // A pooled connection, attached while the client's read is handled: the request's body usually came in
            // the same read, and the read-complete sends head and body in one write.
            upstreamNeedsFlush = true
        } else {
            connection.flush()
        }
        if let context, !context.channel.isWritable { connection.pauseReads() }
        scheduleReadTimer(in: exchange.machine.firstTimerDelay(now: shared.clock.now()))
        resumeReadsIfPossible()
    }

    /// Makes sure the read timer fires no later than `delay` from now. A timer already set to fire sooner is kept
    /// (when it fires the machine says when to look again), so a keep-alive connection schedules about one timer per
    /// read timeout rather than one per request.
    func scheduleReadTimer(in delay: TimeAmount) {
        guard let context else { return }
        let deadline = context.eventLoop.now + delay
        if let readTimer {
            if readTimerDeadline <= deadline { return }
            readTimer.cancel()
        }
        readTimerDeadline = deadline
        readTimer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            readTimer = nil
            // Whichever exchange is in flight now: its machine knows whether it waits on an upstream.
            guard let exchange else { return }
            perform(exchange.machine.readTimerFired(now: shared.clock.now()), exchange: exchange)
        }
    }

    // MARK: UpstreamDelegate

    func upstreamRead(_ part: UpstreamResponsePart) {
        guard let exchange, let context else { return }
        switch part {
        case .head(let head):
            // An upstream's `Retry-After` matters only on a status that may be retried.
            let retryAfter =
                head.status.code < 429
                ? nil
                : RetryPolicy.retryAfterMilliseconds(
                    head.fields.first("retry-after"), now: shared.clock.wallMilliseconds())
            let upstream = exchange.upstream
            let keepAlive =
                ProxyHeaders.isKeepAlive(head, connectionHeader: upstream?.responseHasConnectionHeader ?? true)
                && upstream?.responseEndsAtClose != true
            let action = exchange.machine.upstreamHead(
                status: head.status.code, keepAlive: keepAlive, now: shared.clock.now(), retryAfter: retryAfter)
            switch action {
            case .discardResponseHead:
                // Kept for the failed attempt's log; the client never sees it.
                exchange.statusCode = Int(head.status.code)
                exchange.responseHeaders = head.packed
            case .forwardInterimHead:
                // Interim (100 Continue, 103 Early Hints): passed on to HTTP/1.1 clients only.
                writeResponse(.head(HTTPResponseHead(version: .http1_1, status: head.status)), context: context)
                flushClient(context)
            case .forwardResponseHead:
                respondHead(head, exchange: exchange, context: context)
            default:
                perform(action, exchange: exchange)
            }
        case .body(let buffer):
            let action = exchange.machine.upstreamBody(now: shared.clock.now())
            if action == .discardResponseBody { return exchange.captureResponse(buffer) }
            guard action == .forwardResponseBody else { return perform(action, exchange: exchange) }
            exchange.captureResponse(buffer)
            if exchange.caching?.fill != nil { teeToCache(buffer, exchange: exchange) }
            if exchange.usageFilter == nil {
                writeResponse(.body(.byteBuffer(buffer)), context: context)
            } else if let out = exchange.usageFilter!.filter(buffer) {
                writeResponse(.body(.byteBuffer(out)), context: context)
            }
        case .end:
            perform(exchange.machine.upstreamEnd(), exchange: exchange)
        }
    }

    func respondHead(_ head: UpstreamResponseHead, exchange: ProxyExchange, context: ChannelHandlerContext) {
        exchange.statusCode = Int(head.status.code)
        // One pass over the upstream's fields, on their bytes: what the rules below need to know of them.
        var hopByHop = false
        var connectionHeader = false
        var lengths = 0
        var contentType = false
        var eventStream = false
        head.fields.forEach { name, value in
            if ProxyHeaders.isHopByHop(name) {
                hopByHop = true
                if ProxyHeaders.equalsLowercase(name, "connection") { connectionHeader = true }
            } else if ProxyHeaders.equalsLowercase(name, "content-length") {
                lengths += 1
            } else if !contentType && ProxyHeaders.equalsLowercase(name, "content-type") {
                contentType = true
                eventStream = Self.isEventStream(contentType: value)
            }
        }
        // The record's copy of them: all of them when it keeps headers (packed as the head was read), otherwise only
        // those its fields are read from (whether the response was a stream, whether its body was encoded), packed
        // from their bytes at the end. `captured` holds what the gateway adds to them, or, when it rebuilds the head,
        // all of them.
        var captured: [(name: String, value: String)] = []
        captured.reserveCapacity(4)
        let recorded = head.takeRecorded()
        let listed = connectionHeader ? ProxyHeaders.connectionTokens(head.headers) : []
        var headers = HTTPHeaders()
        var hasLength = false
        if !exchange.capturesBodies { exchange.responseScanner = ResponseUsageScanner(eventStream: eventStream) }
        if exchange.injectedStreamUsage && head.status == .ok && eventStream {
            exchange.usageFilter = StreamUsageFilter()
        }
        let filtered = exchange.usageFilter != nil
        // Nothing to drop (the usual case) when there is no hop-by-hop header (a `Connection` header is one) and at
        // most one content length: the upstream's fields go on as the bytes they came in, then the gateway's,
        // without making them `HTTPHeaders`.
        let passThrough = !filtered && !hopByHop && lengths <= 1
        if passThrough {
            hasLength = lengths == 1
        } else {
            let all = recorded?.pairs ?? head.strings
            captured.removeAll(keepingCapacity: true)
            headers.reserveCapacity(all.count + 3)
            for (name, value) in all {
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
        }
        let own = captured.count
        // A head that goes on as its bytes, for a record that keeps no headers and no cache entry, has the log id
        // written into it as bytes: no `String` of it is made.
        let logIDBytes = passThrough && recorded == nil && exchange.caching == nil
        if !logIDBytes { captured.append((GatewayHeader.logID.name, exchange.logID)) }
        if let eventID = exchange.eventID { captured.append((GatewayHeader.eventID.name, eventID)) }
        if let step = exchange.step { captured.append((GatewayHeader.step.name, String(step))) }
        if let status = exchange.logStatus { captured.append((GatewayHeader.logStatus.name, "\(status)")) }
        if exchange.caching != nil {
            cacheResponseHead(
                head.status, fields: recorded?.pairs ?? head.strings, listed: listed, exchange: exchange,
                captured: &captured)
        }
        let version = exchange.requestHead.version
        if Self.isHTTP10(version) && !hasLength && head.status.mayHaveResponseBody && !exchange.method.isHEAD {
            // An HTTP/1.0 client learns where the body ends only from the connection closing.
            exchange.keepClientAlive = false
        }
        if connection.quiescing { exchange.keepClientAlive = false }
        // Not part of the record: the connection's own.
        let connectionValue: StaticString? =
            !exchange.keepClientAlive ? "close" : Self.isHTTP10(version) ? "keep-alive" : nil
        if passThrough {
            let bytes = encoder.encodeHead(
                version: version, status: head.status, fields: head.fields, logID: logIDBytes ? exchange.id : nil,
                extra: captured[own...], connection: connectionValue, allocator: context.channel.allocator)
            if var recorded {
                for (name, value) in captured { recorded.append(Header(name, value)) }
                exchange.responseHeaders = recorded
            } else {
                exchange.responseHeaders = head.fields.packedContentHeaders(reusing: &contentHeaders)
            }
            gather(bytes, promise: nil, context: context)
            return
        }
        for (name, value) in captured[own...] { headers.add(name: name, value: value) }
        exchange.responseHeaders = HeaderList(pairs: captured)
        if let connectionValue { headers.add(name: "connection", value: "\(connectionValue)") }
        writeResponse(
            .head(HTTPResponseHead(version: version, status: head.status, headers: headers)), context: context)
    }

    /// Whether a `content-type` value says `text/event-stream` (ASCII case-insensitive, parameters or not).
    static func isEventStream(contentType value: String) -> Bool {
        ProxyHeaders.withBytes(value) { isEventStream(contentType: $0) }
    }

    static func isEventStream(contentType value: UnsafeBufferPointer<UInt8>) -> Bool {
        value.count >= 17 && ProxyHeaders.startsWithLowercase(value, "text/event-stream")
    }

    func upstreamReadComplete() {
        if let context { flushClient(context) }
        // What was just sent is read for its usage now, after it left.
        exchange?.scanPassedParts()
    }

    func upstreamWritabilityChanged(isWritable: Bool) {
        if isWritable { resumeReadsIfPossible() }
    }

    func upstreamClosed(error: (any Error)?) {
        guard let exchange else { return }
        // The connection already let go of its delegate.
        exchange.upstream = nil
        exchange.retryTimer?.cancel()
        exchange.retryTimer = nil
        perform(exchange.machine.upstreamClosed(cause: error, replayable: exchange.canReplay), exchange: exchange)
    }

    // MARK: Actions

    /// Carries out an action that needs no request or response part at hand (those are carried out where the
    /// event came in).
    func perform(_ action: ExchangeStateMachine.Action, exchange: ProxyExchange) {
        switch action {
        case .finish(let ending, let upstream):
            finish(exchange, ending: ending, upstream: upstream)
        case .retry:
            connect(exchange: exchange)
        case .attemptFailed(let failure, let wait, let upstream):
            attemptFailed(exchange, failure: failure, retryIn: wait, upstream: upstream)
        case .scheduleReadTimer(let delay):
            scheduleReadTimer(in: delay)
        case .lookUpCache:
            lookUpCache(exchange)
        case .connectUpstream:
            goUpstreamAfterMiss(exchange)
        case .none, .unexpected, .dropRequestPart, .dropInterimHead, .discardUpstream, .sendRequest,
            .replayRequest, .awaitCollectedBody, .forwardRequestBody, .queueRequestBody, .collectRequestBody,
            .forwardRequestEnd, .queueRequestEnd, .sendCollectedRequest, .forwardInterimHead, .forwardResponseHead,
            .forwardResponseBody, .discardResponseHead, .discardResponseBody:
            break
        }
    }

    /// An attempt failed before anything reached the client and the request is tried again: the attempt is
    /// recorded as its own log, and the next one starts after `wait` with a new log id in the same event.
    func attemptFailed(
        _ exchange: ProxyExchange, failure: ExchangeStateMachine.AttemptFailure, retryIn wait: TimeAmount,
        upstream disposal: ExchangeStateMachine.UpstreamDisposal
    ) {
        letGoOfUpstream(exchange, disposal)
        var error: String?
        if case .error(let failure) = failure {
            exchange.statusCode = Int(Self.answerStatus(for: failure).status.code)
            error = failure.message
        }
        shared.sink.submit(exchange.makeExchange(error: error, now: shared.clock.now()))
        guard let next = exchange.machine.attempt, let context else { return }
        let previousStep = exchange.step
        exchange.startNextAttempt(
            id: shared.nextLogID(), attempt: next.number,
            step: previousStep == nil ? nil : next.step)
        if let previousStep, previousStep != next.step {
            // The step ran out of attempts: the next one (a fallback) takes over.
            prepareStep(next.step, of: exchange, allocator: context.channel.allocator)
        }
        if exchange.logged, let quota = shared.quota {
            // Each attempt's log takes its own place in the account's monthly quota.
            if quota.admit(account: exchange.account) == .store {
                exchange.quotaReserved = true
            } else {
                exchange.quotaReserved = false
                exchange.logged = false
                exchange.capturesBodies = false
                exchange.logStatus = "quota_exceeded"
            }
        }
        exchange.retryTimer = context.eventLoop.assumeIsolated().scheduleTask(in: wait) { [self] in
            exchange.retryTimer = nil
            perform(exchange.machine.retryTimerFired(now: shared.clock.now()), exchange: exchange)
        }
    }

    /// Lets go of the exchange's upstream connection and timer: back to the pool or closed.
    func letGoOfUpstream(_ exchange: ProxyExchange, _ disposal: ExchangeStateMachine.UpstreamDisposal) {
        exchange.retryTimer?.cancel()
        exchange.retryTimer = nil
        guard let connection = exchange.upstream else { return }
        exchange.upstream = nil
        connection.delegate = nil
        if disposal == .release && !shared.isShuttingDown {
            pool.checkin(connection)
        } else {
            connection.close()
        }
    }

    /// The one way an exchange ends: let go of the upstream, end, answer or cut towards the client, and submit the
    /// record.
    func finish(
        _ exchange: ProxyExchange, ending: ExchangeStateMachine.Ending,
        upstream disposal: ExchangeStateMachine.UpstreamDisposal
    ) {
        if exchange.caching != nil { cacheExchangeEnded(exchange, ending: ending) }
        letGoOfUpstream(exchange, disposal)
        if self.exchange === exchange { self.exchange = nil }
        switch ending {
        case .completed:
            if let rest = exchange.usageFilter?.finish(), let context {
                writeResponse(.body(.byteBuffer(rest)), context: context)
            }
            endResponse(exchange, error: nil)
        case .answered(let error):
            answer(exchange, error: error)
        case .cut(let error):
            if let rest = exchange.usageFilter?.finish(), let context {
                writeResponse(.body(.byteBuffer(rest)), context: context)
            }
            connection.startClosing()
            if let context {
                flushClient(context)
                context.close(promise: nil)
            }
            shared.sink.submit(exchange.makeExchange(error: error.message, now: shared.clock.now()))
        case .abandoned(let error):
            shared.sink.submit(exchange.makeExchange(error: error.message, now: shared.clock.now()))
        case .servedFromCache:
            replayCached(exchange)
        }
    }

    // MARK: Endings

    /// Answers a request the gateway refuses before anything is forwarded; no exchange is recorded.
    func reject(
        _ head: HTTPRequestHead, _ status: HTTPResponseStatus, _ code: StaticString, _ message: String, close: Bool,
        retryAfter: Int? = nil
    ) {
        guard let context else { return }
        let keepAlive = head.isKeepAlive && !close && !connection.quiescing
        let (responseHead, body) = GatewayErrorResponse(
            status: status, code: code, message: message, retryAfter: retryAfter
        ).render(version: head.version, logID: nil, close: !keepAlive, allocator: context.channel.allocator)
        writeResponse(.head(responseHead), context: context)
        if !head.method.isHEAD { writeResponse(.body(.byteBuffer(body)), context: context) }
        guard keepAlive else {
            _ = connection.responseEnded(keepAlive: false, now: shared.clock.now())
            return closeAfterEnd(context)
        }
        writeResponse(.end(nil), context: context)
        flushClient(context)
        if case .releaseHeld(let closeOutput) = connection.responseEnded(keepAlive: true, now: shared.clock.now()) {
            if closeOutput { performDeferredClose() }
            releaseHeld()
        }
    }

    /// Answers with the gateway's own 502/504/413 for an exchange whose response has not started, and records it.
    func answer(_ exchange: ProxyExchange, error: ProxyError) {
        guard let context else { return }
        let (status, code) = Self.answerStatus(for: error)
        if !exchange.machine.requestEnded || connection.quiescing { exchange.keepClientAlive = false }
        var (head, body) = GatewayErrorResponse(status: status, code: code, message: error.message).render(
            version: exchange.requestHead.version, logID: exchange.logID, close: !exchange.keepClientAlive,
            allocator: context.channel.allocator)
        if let eventID = exchange.eventID { head.headers.add(name: GatewayHeader.eventID.name, value: eventID) }
        if let step = exchange.step { head.headers.add(name: GatewayHeader.step.name, value: String(step)) }
        exchange.statusCode = Int(status.code)
        if exchange.caching?.status == .miss { head.headers.add(name: GatewayHeader.cacheStatus.name, value: "MISS") }
        exchange.responseHeaders = HeaderList(pairs: head.headers.map { (name: $0.name, value: $0.value) })
        writeResponse(.head(head), context: context)
        if !exchange.method.isHEAD {
            exchange.captureResponse(body)
            writeResponse(.body(.byteBuffer(body)), context: context)
        }
        endResponse(exchange, error: error.message)
    }

    /// The status and error code the gateway answers an exchange's failure with.
    static func answerStatus(for error: ProxyError) -> (status: HTTPResponseStatus, code: StaticString) {
        switch error.code {
        case .upstreamTimeout: (.gatewayTimeout, "upstream_timeout")
        case .requestTimeout: (.gatewayTimeout, "request_timeout")
        case .requestTooLarge: (.payloadTooLarge, "request_too_large")
        default: (.badGateway, "upstream_unreachable")
        }
    }

    /// Ends the response to the client; records the exchange once the last byte was written.
    func endResponse(_ exchange: ProxyExchange, error: String?) {
        guard let context else { return }
        let keepAlive = exchange.keepClientAlive && !connection.quiescing
        // A client still sending its body (a refused upload) has unread input: a plain close could reset the response.
        let linger = !keepAlive && !exchange.machine.requestEnded
        let promise = context.eventLoop.makePromise(of: Void.self)
        writeResponse(.end(nil), promise: promise, context: context)
        flushClient(context)
        let sink = shared.sink
        promise.futureResult.assumeIsolated().whenComplete { [self] result in
            var failure = error
            if failure == nil, case .failure = result { failure = ProxyError.clientDisconnected.message }
            sink.submit(exchange.makeExchange(error: failure, now: shared.clock.now()))
            if linger, case .success = result {
                closeLingering()
            } else if !keepAlive {
                self.context?.close(promise: nil)
            }
        }
        if case .releaseHeld(let closeOutput) = connection.responseEnded(keepAlive: keepAlive, now: shared.clock.now())
        {
            if closeOutput { performDeferredClose() }
            releaseHeld()
        }
    }

    /// Ends the response and closes — lingering: for up to a second after the response left, what the client still
    /// sends is read and dropped. Closing a socket with unread input resets the connection, and a reset can destroy
    /// the response in flight (a client still uploading a refused 30 MB body would see "connection reset" instead of
    /// the 413).
    func closeAfterEnd(_ context: ChannelHandlerContext) {
        let promise = context.eventLoop.makePromise(of: Void.self)
        writeResponse(.end(nil), promise: promise, context: context)
        flushClient(context)
        promise.futureResult.assumeIsolated().whenComplete { [self] _ in closeLingering() }
    }

    /// Closes the output now and the connection after a second, reading and dropping what the client still sends.
    func closeLingering() {
        guard let context else { return }
        context.close(mode: .output, promise: nil)
        resumeReadsIfPossible()
        context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(1)) { [self] in
            self.context?.close(promise: nil)
        }
    }
}
