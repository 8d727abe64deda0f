import NIOCore
import NIOHTTP1
import TollgateModel
import TollgateStorage

/// What the response cache does for one exchange (`cf-aig-cache-*`, the gateway's `cache_ttl`).
struct ExchangeCaching {
    enum Status: Equatable {
        case hit
        case miss
    }

    /// Seconds a response this request stores is served.
    let ttl: Int
    /// The client's own key (`cf-aig-cache-key`).
    let clientKey: String?
    /// The body may get `stream_options.include_usage` upstream (an OpenAI-style stream on a gateway with
    /// `stream_usage`), so a replay filters the usage-only chunk as a live stream would.
    let rewritesForUsage: Bool
    /// Known once the request body is whole.
    var key: CacheKey?
    /// The request would get usage injected upstream: a replayed stream drops the usage-only chunk.
    var injectsUsage = false
    /// This exchange leads its key's flight: identical requests wait for its response.
    var leads = false
    /// The flight was landed (waiters were told), so the exchange's end does not land it again.
    var landed = false
    /// `cf-aig-cache-status`, once decided.
    var status: Status?
    /// The entry to answer from (a hit), until it is written.
    var hit: ResponseCache.Entry?
    /// The response being collected for the cache; nil when it will not be stored (not 2xx, too large).
    var fill: [UInt8]?
    var fillStatus = 0
    var fillHeaders: [Header] = []
}

/// A request waiting for an identical one in flight, as its landing callback holds it (on the request's loop).
final class CacheWaiter {
    let handler: ProxyHandler
    let exchange: ProxyExchange

    init(handler: ProxyHandler, exchange: ProxyExchange) {
        self.handler = handler
        self.exchange = exchange
    }
}

/// The response cache in the proxy: the key once the request body is whole, the lookup off the event loop, one
/// upstream call for identical requests in flight, answers replayed from an entry (`HIT`), and the tee of a 2xx
/// response into a new entry (`MISS`).
extension ProxyHandler {
    /// Whether caching applies to a request with these controls.
    func caching(_ controls: RequestControls, method: HTTPMethod, rewritesForUsage: Bool) -> ExchangeCaching? {
        guard shared.cache != nil, let ttl = controls.cacheTTL, !method.isHEAD else { return nil }
        return ExchangeCaching(ttl: ttl, clientKey: controls.cacheKey, rewritesForUsage: rewritesForUsage)
    }

    /// `.lookUpCache`: the request is whole. Waits for an identical request in flight, or looks the key up.
    func lookUpCache(_ exchange: ProxyExchange) {
        guard let cache = shared.cache, let context, var caching = exchange.caching else { return }
        let key: CacheKey
        if let clientKey = caching.clientKey {
            key = CacheKey(account: exchange.account, gateway: exchange.gateway, clientKey: clientKey)
        } else {
            var credentials: [String] = []
            for (name, value) in exchange.upstreamHead.headers where HeaderRedaction.isSensitive(name) {
                credentials.append(name.lowercased() + ":" + value)
            }
            credentials.sort()
            var pathAndQuery = exchange.path
            if let query = exchange.query {
                pathAndQuery += "?"
                pathAndQuery += query
            }
            let body = exchange.heldBody ?? ByteBuffer()
            key = CacheKey(
                account: exchange.account, gateway: exchange.gateway, provider: exchange.provider,
                method: exchange.method.rawValue, pathAndQuery: pathAndQuery, credentials: credentials,
                body: body.readableBytesView)
        }
        if caching.rewritesForUsage, let held = exchange.heldBody {
            caching.injectsUsage =
                held.withUnsafeReadableBytes { StreamUsageOption.requestingUsage($0.bindMemory(to: UInt8.self)) }
                != nil
        }
        caching.key = key
        let loop = context.eventLoop
        let joined = cache.flights.join(key) {
            // Made only when the request waits: it is called on the thread that lands the flight.
            let bound = NIOLoopBound(CacheWaiter(handler: self, exchange: exchange), eventLoop: loop)
            return { entry in
                loop.execute { bound.value.handler.identicalLanded(entry, exchange: bound.value.exchange) }
            }
        }
        switch joined {
        case .wait:
            exchange.caching = caching
            perform(exchange.machine.waitForIdentical(), exchange: exchange)
        case .landed(let entry):
            exchange.caching = caching
            serveFromCache(entry, exchange: exchange)
        case .lead:
            caching.leads = true
            exchange.caching = caching
            // Kept in memory: answered at once, on this loop. Otherwise the file is read on the cache's threads.
            if let entry = cache.store.lookupInMemory(key.digest) {
                return leaderFound(entry, key: key, exchange: exchange)
            }
            cache.lookup(key, on: loop).assumeIsolated().whenSuccess { [self] entry in
                guard let entry else { return perform(exchange.machine.cacheMissed(), exchange: exchange) }
                leaderFound(entry, key: key, exchange: exchange)
            }
        }
    }

    /// The leader's lookup found the entry: the waiters are answered from it too.
    private func leaderFound(_ entry: ResponseCache.Entry, key: CacheKey, exchange: ProxyExchange) {
        if let cache = shared.cache, exchange.caching?.landed == false {
            exchange.caching?.landed = true
            cache.flights.land(key, entry)
            cache.flights.settle(key)
        }
        serveFromCache(entry, exchange: exchange)
    }

    /// The identical request this one waited for ended: answer from its response, or go upstream.
    func identicalLanded(_ entry: ResponseCache.Entry?, exchange: ProxyExchange) {
        guard let entry else { return perform(exchange.machine.cacheMissed(), exchange: exchange) }
        serveFromCache(entry, exchange: exchange)
    }

    func serveFromCache(_ entry: ResponseCache.Entry, exchange: ProxyExchange) {
        exchange.caching?.hit = entry
        perform(exchange.machine.cacheHit(), exchange: exchange)
    }

    /// `.connectUpstream`: a miss goes upstream with the collected body.
    func goUpstreamAfterMiss(_ exchange: ProxyExchange) {
        exchange.caching?.status = .miss
        sendCollectedRequest(exchange, upstreamAttached: false)
        goUpstream(exchange)
    }

    /// The response head of a miss: `cf-aig-cache-status: MISS`, and a fill started for a 2xx response with the
    /// upstream's `fields` but the hop-by-hop ones and those its `Connection` header lists (`listed`, lowercased).
    func cacheResponseHead(
        _ status: HTTPResponseStatus, fields: [(name: String, value: String)], listed: [String],
        exchange: ProxyExchange, captured: inout [(name: String, value: String)]
    ) {
        guard var caching = exchange.caching else { return }
        captured.append((GatewayHeader.cacheStatus.name, "MISS"))
        caching.status = .miss
        if (200..<300).contains(status.code) {
            var stored: [Header] = []
            var length = 0
            for (name, value) in fields {
                if ProxyHeaders.nameEquals(name, "content-length") {
                    length = Int(value) ?? 0
                    continue
                }
                if ProxyHeaders.isHopByHop(name) { continue }
                if !listed.isEmpty && listed.contains(name.lowercased()) { continue }
                stored.append(Header(name, value))
            }
            if length <= shared.cache?.configuration.maxBodyBytes ?? 0 {
                caching.fillStatus = Int(status.code)
                caching.fillHeaders = stored
                var fill: [UInt8] = []
                fill.reserveCapacity(length)
                caching.fill = fill
            }
        }
        exchange.caching = caching
    }

    /// A response body part of a miss, into its fill (dropped when it grows past the cache's body limit).
    func teeToCache(_ buffer: ByteBuffer, exchange: ProxyExchange) {
        let limit = shared.cache?.configuration.maxBodyBytes ?? 0
        guard let size = exchange.caching?.fill?.count, size + buffer.readableBytes <= limit else {
            exchange.caching?.fill = nil
            return
        }
        exchange.caching!.fill!.append(contentsOf: buffer.readableBytesView)
    }

    /// An exchange with caching ended: a whole 2xx response is stored (and answers the requests waiting for it); a
    /// leader that got none lets its waiters go upstream.
    func cacheExchangeEnded(_ exchange: ProxyExchange, ending: ExchangeStateMachine.Ending) {
        guard let cache = shared.cache, var caching = exchange.caching, let key = caching.key else { return }
        var entry: ResponseCache.Entry?
        if case .completed = ending, let fill = caching.fill {
            let now = cache.now
            entry = ResponseCache.Entry(
                key: key.digest, account: exchange.account, gateway: exchange.gateway, createdAt: now,
                expiresAt: now + Int64(caching.ttl) * 1000, status: caching.fillStatus, headers: caching.fillHeaders,
                body: fill)
        }
        caching.fill = nil
        let lands = caching.leads && !caching.landed
        caching.landed = true
        exchange.caching = caching
        if let entry {
            if lands { cache.flights.land(key, entry) }
            cache.store(entry) { if lands { cache.flights.settle(key) } }
        } else if lands {
            cache.flights.land(key, nil)
        }
    }

    /// `finish(.servedFromCache)`: writes the entry's response (a stream as a stream) with `cf-aig-cache-status:
    /// HIT`, and records it as a cached exchange with the entry's body, so its usage is the original response's.
    func replayCached(_ exchange: ProxyExchange) {
        guard let context, let entry = exchange.caching?.hit else { return }
        exchange.caching?.hit = nil
        exchange.caching?.status = .hit
        exchange.statusCode = entry.status
        // The stored names came through the HTTP parser, the others are the gateway's: built in one go, unchecked.
        var fields: [(String, String)] = []
        fields.reserveCapacity(entry.headers.count + 6)
        var eventStream = false
        for header in entry.headers {
            fields.append((header.name, header.value))
            if ProxyHeaders.nameEquals(header.name, "content-type") {
                eventStream = header.value.utf8.count >= 17 && header.value.lowercased().hasPrefix("text/event-stream")
            }
        }
        if !exchange.capturesBodies { exchange.responseScanner = ResponseUsageScanner(eventStream: eventStream) }
        var filter: StreamUsageFilter?
        if eventStream && entry.status == 200 && exchange.caching?.injectsUsage == true { filter = StreamUsageFilter() }
        let version = exchange.requestHead.version
        if eventStream || filter != nil {
            // Replayed as a stream: chunked, one part per event (close-delimited for an HTTP/1.0 client).
            if Self.isHTTP10(version) { exchange.keepClientAlive = false }
        } else {
            fields.append(("content-length", String(entry.body.count)))
        }
        fields.append((GatewayHeader.cacheStatus.name, "HIT"))
        fields.append((GatewayHeader.logID.name, exchange.logID))
        if let status = exchange.logStatus { fields.append((GatewayHeader.logStatus.name, "\(status)")) }
        exchange.responseHeaders = HeaderList(pairs: fields.map { (name: $0.0, value: $0.1) })
        if connection.quiescing { exchange.keepClientAlive = false }
        if !exchange.keepClientAlive {
            fields.append(("connection", "close"))
        } else if Self.isHTTP10(version) {
            fields.append(("connection", "keep-alive"))
        }
        let headers = HTTPHeaders(fields)
        let status = HTTPResponseStatus(statusCode: entry.status)
        writeResponse(.head(HTTPResponseHead(version: version, status: status, headers: headers)), context: context)
        for range in eventStream ? Self.eventRanges(entry.body) : [0..<entry.body.count] where !range.isEmpty {
            var part = context.channel.allocator.buffer(capacity: range.count)
            part.writeBytes(entry.body[range])
            exchange.captureResponse(part)
            if filter == nil {
                writeResponse(.body(.byteBuffer(part)), context: context)
            } else if let out = filter!.filter(part) {
                writeResponse(.body(.byteBuffer(out)), context: context)
            }
        }
        if let rest = filter?.finish() { writeResponse(.body(.byteBuffer(rest)), context: context) }
        endResponse(exchange, error: nil)
    }

    /// An event stream cut after each blank line (`\n\n`), the last range holding whatever follows the last one.
    static func eventRanges(_ body: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        var index = 0
        while index + 1 < body.count {
            if body[index] == 0x0A && body[index + 1] == 0x0A {
                ranges.append(start..<(index + 2))
                start = index + 2
                index += 2
            } else {
                index += 1
            }
        }
        if start < body.count { ranges.append(start..<body.count) }
        return ranges
    }
}
