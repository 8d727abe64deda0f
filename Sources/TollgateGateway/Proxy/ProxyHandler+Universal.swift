import NIOCore
import NIOHTTP1
import TollgateModel

/// The universal endpoint: `POST /v1/{account}/{gateway}` with a JSON array of steps (`UniversalRequest`), each a
/// whole provider request. The body is read whole first — the steps name the provider — then the request goes through
/// the gateway's checks once and becomes one exchange whose plan has a step per element: a step that fails with a
/// retriable error after its own attempts hands over to the next at once (a fallback). The response says which step
/// answered (`cf-aig-step`).
extension ProxyHandler {
    /// A request whose body is read whole before its exchange is made.
    final class PendingRequest {
        enum Purpose {
            /// The universal endpoint: the body holds the steps.
            case universal
            /// A provider path on a gateway whose spend limits depend on the model: admitted once the body named it.
            case modelScoped(ProxyRoute, UpstreamTarget, upstreamPath: String)
        }

        let head: HTTPRequestHead
        let entry: GatewayDirectory.Entry
        let start: NIODeadline
        let purpose: Purpose
        var body: ByteBuffer

        init(
            head: HTTPRequestHead, entry: GatewayDirectory.Entry, start: NIODeadline, purpose: Purpose,
            body: ByteBuffer
        ) {
            self.head = head
            self.entry = entry
            self.start = start
            self.purpose = purpose
            self.body = body
        }
    }

    func beginUniversal(_ head: HTTPRequestHead, account: Substring, gateway: Substring, start: NIODeadline) {
        guard let entry = authorizedGateway(head, account: account, gateway: gateway) else { return }
        collectBeforeAdmission(head, entry: entry, start: start, purpose: .universal)
    }

    /// Reads the request's body whole before anything else happens to it (`pendingRequestEnded`).
    func collectBeforeAdmission(
        _ head: HTTPRequestHead, entry: GatewayDirectory.Entry, start: NIODeadline, purpose: PendingRequest.Purpose
    ) {
        guard let context else { return }
        let limit = shared.configuration.maxRequestBodyBytes
        let length = head.headers.first(name: "content-length").flatMap { Int($0) }
        if let length, length > limit {
            return reject(
                head, .payloadTooLarge, "request_too_large", "request body exceeds \(limit) bytes", close: true)
        }
        pendingRequest = PendingRequest(
            head: head, entry: entry, start: start, purpose: purpose,
            body: context.channel.allocator.buffer(capacity: min(length ?? 1024, limit)))
        if let expect = head.headers.first(name: "expect"), expect.lowercased() == "100-continue",
            !Self.isHTTP10(head.version)
        {
            writeResponse(.head(HTTPResponseHead(version: .http1_1, status: .continue)), context: context)
            flushClient(context)
        }
    }

    func pendingBodyPart(_ buffer: ByteBuffer) {
        guard let pending = pendingRequest else { return }
        let limit = shared.configuration.maxRequestBodyBytes
        guard pending.body.readableBytes + buffer.readableBytes <= limit else {
            pendingRequest = nil
            return reject(
                pending.head, .payloadTooLarge, "request_too_large", "request body exceeds \(limit) bytes",
                close: true)
        }
        pending.body.writeImmutableBuffer(buffer)
    }

    func pendingRequestEnded() {
        guard let pending = pendingRequest else { return }
        pendingRequest = nil
        switch pending.purpose {
        case .universal:
            universalEnd(pending)
        case .modelScoped(let route, let target, let upstreamPath):
            var model = pending.body.withUnsafeReadableBytes { raw in
                RequestSummary(body: Array(raw.bindMemory(to: UInt8.self)), path: String(route.path)).model
            }
            // The model a path names (a Workers AI run, a Bedrock model, a Hugging Face model), as the record will
            // name it.
            if let provider = shared.providers.provider(route.provider) {
                model = provider.model(path: String(route.path), bodyModel: model)
            }
            startProxy(
                pending.head, entry: pending.entry, target: target, upstreamPath: upstreamPath, route: route,
                names: route.names, start: pending.start, model: model, collectedBody: pending.body)
        }
    }

    /// The body is whole: read the steps, apply the gateway's controls once, and start the first step.
    func universalEnd(_ pending: PendingRequest) {
        guard let context else { return }
        let head = pending.head
        let request: UniversalRequest
        do {
            request = try UniversalRequest.parse(Array(pending.body.readableBytesView))
        } catch {
            return reject(head, .badRequest, "invalid_request", error.description, close: false)
        }
        for (index, step) in request.steps.enumerated()
        where shared.upstream(step.provider, account: pending.entry.account) == nil {
            return reject(
                head, .badRequest, "invalid_request", "steps[\(index)].provider: " + shared.unknownProviderMessage,
                close: false)
        }
        for (index, step) in request.steps.enumerated() {
            do {
                _ = try shared.upstream(step.provider, account: pending.entry.account)!.resolved(
                    Substring(step.path), account: Substring(pending.entry.account))
            } catch {
                return reject(
                    head, .badRequest, "invalid_provider_path", "steps[\(index)].endpoint: " + error.message,
                    close: false)
            }
        }
        let first = request.steps[0]
        // Resolved above without an error.
        let target = try! shared.upstream(first.provider, account: pending.entry.account)!.resolved(
            Substring(first.path), account: Substring(pending.entry.account)
        ).target
        let route = ProxyRoute(
            account: Substring(pending.entry.account), gateway: Substring(pending.entry.gateway),
            provider: Substring(first.provider), path: Substring(first.path), query: first.query.map { Substring($0) })
        guard
            let admitted = admit(
                head, entry: pending.entry, target: target, route: route, start: pending.start, model: nil)
        else { return }
        // A step's own config, then the request's headers, then the gateway's settings.
        let steps = request.steps.map { step in
            var retry = admitted.controls.retry
            if let attempts = step.config.maxAttempts { retry.maxAttempts = attempts }
            if let delay = step.config.retryDelay { retry.delay = delay }
            if let backoff = step.config.backoff.flatMap(RetryPolicy.Backoff.init(rawValue:)) {
                retry.backoff = backoff
            }
            let timeout = step.config.requestTimeout ?? admitted.controls.requestTimeout
            return ExchangeStateMachine.Step(retry: retry, requestTimeout: timeout.map { .milliseconds(Int64($0)) })
        }
        let machine = ExchangeStateMachine(
            start: pending.start, collectsBody: true, readTimeout: shared.configuration.readTimeout,
            idempotent: false, http10Client: Self.isHTTP10(head.version), steps: steps)
        let exchange = ProxyExchange(
            id: shared.nextLogID(), machine: machine,
            names: route.names, target: target, requestHead: head,
            upstreamHead: head, metadata: admitted.metadata, collectPayload: admitted.collectPayload,
            captureLimit: shared.configuration.maxCapturedBodyBytes)
        exchange.eventID = admitted.eventID
        exchange.universal = request
        exchange.streamUsageWanted = pending.entry.streamUsage
        admitted.apply(to: exchange, quota: shared.quota != nil)
        prepareStep(0, of: exchange, allocator: context.channel.allocator)
        // The step's request is whole: it goes with the head once an upstream is attached.
        _ = exchange.machine.clientEnd()
        if let body = exchange.forwardedBody, body.readableBytes > 0 {
            exchange.pending.append(.body(.byteBuffer(body)))
        }
        exchange.pending.append(.end(nil))
        self.exchange = exchange
        goUpstream(exchange)
    }

    /// Points the exchange at step `index`: its provider, path, headers and body, as the attempts of that step send
    /// and record them.
    func prepareStep(_ index: Int, of exchange: ProxyExchange, allocator: ByteBufferAllocator) {
        // Every step's path was checked against its provider's template when the request arrived.
        guard let step = exchange.universal?.steps[index],
            let provider = shared.upstream(step.provider, account: exchange.account),
            let resolved = try? provider.resolved(Substring(step.path), account: Substring(exchange.account))
        else { return }
        let (target, upstreamPath) = resolved
        exchange.step = index
        exchange.provider = step.provider
        exchange.target = target
        exchange.method = .POST
        exchange.path = step.path
        exchange.query = step.query
        var body = step.body
        exchange.injectedStreamUsage = false
        if exchange.streamUsageWanted && target.streamUsagePaths.contains(step.path),
            let rewritten = body.withUnsafeBufferPointer({ StreamUsageOption.requestingUsage($0) })
        {
            body = rewritten
            exchange.injectedStreamUsage = true
        }
        var headers = HTTPHeaders()
        var recorded = HTTPHeaders()
        headers.reserveCapacity(step.headers.count + 3)
        headers.add(name: "host", value: target.hostHeader)
        for header in step.headers {
            let name = header.name
            if ProxyHeaders.isGatewayHeader(name) || ProxyHeaders.isHopByHop(name) || ProxyHeaders.isHost(name)
                || ProxyHeaders.nameEquals(name, "content-length") || ProxyHeaders.nameEquals(name, "accept-encoding")
            {
                continue
            }
            headers.add(name: name, value: header.value)
            recorded.add(name: name, value: header.value)
        }
        if !headers.contains(name: "content-type") { headers.add(name: "content-type", value: "application/json") }
        headers.add(name: "accept-encoding", value: "identity")
        headers.add(name: "content-length", value: String(body.count))
        var uri = upstreamPath
        if let query = step.query { uri += "?" + query }
        exchange.upstreamHead = HTTPRequestHead(version: .http1_1, method: .POST, uri: uri, headers: headers)
        var buffer = allocator.buffer(capacity: body.count)
        buffer.writeBytes(body)
        exchange.forwardedBody = buffer
        exchange.recordedHeaders = recorded
        // The record keeps the step's body as the client wrote it.
        exchange.requestSize = Int64(step.body.count)
        exchange.requestBody =
            exchange.capturesBodies || exchange.machine.keepsBody
            ? Array(step.body.prefix(exchange.captureLimit)) : []
        exchange.requestScanner = RequestSummaryScanner()
        exchange.unscannedRequest.removeAll()
        if !exchange.capturesBodies { step.body.withUnsafeBytes { exchange.requestScanner.feed($0) } }
    }
}
