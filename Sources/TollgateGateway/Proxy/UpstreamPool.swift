import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// Keep-alive connections to upstreams for one event loop. Used only on that loop, by the client connections
/// that loop serves, so no exchange ever hops loops and nothing here needs a lock.
/// Its stored properties are `@exclusivity(unchecked)`, as `ProxyHandler`'s: it is used on one event loop only.
final class UpstreamPool {
    let eventLoop: any EventLoop
    private unowned let context: ProxyContext
    @exclusivity(unchecked) private var idle = IdleLists()
    @exclusivity(unchecked) private var sweep: Scheduled<Void>?
    @exclusivity(unchecked) private var closed = false

    init(eventLoop: any EventLoop, context: ProxyContext) {
        self.eventLoop = eventLoop
        self.context = context
    }

    var idleCount: Int { idle.lists.reduce(0) { $0 + $1.list.count } }

    /// The most recently used idle connection to `endpoint` that is still open, if any.
    func checkout(_ endpoint: UpstreamTarget.Endpoint) -> UpstreamConnection? {
        while let connection = idle.withList(endpoint, { $0.popLast() }) {
            connection.pool = nil
            if connection.isActive { return connection }
            connection.close()
        }
        return nil
    }

    /// Takes back a connection whose exchange ended cleanly; closes it when the pool is full or shutting down.
    func checkin(_ connection: UpstreamConnection) {
        guard connection.isActive else { return }
        connection.delegate = nil
        connection.resumeReads()
        let limit = context.configuration.maxIdleConnectionsPerUpstream
        guard !closed && !context.isShuttingDown && limit > 0 else { return connection.close() }
        let pooled = idle.withList(connection.endpoint) { list in
            guard list.count < limit else { return false }
            list.append(connection)
            return true
        }
        guard pooled else { return connection.close() }
        connection.idleSince = context.clock.now()
        connection.pool = self
        scheduleSweep()
    }

    /// Forgets a connection that closed while idle.
    func remove(_ connection: UpstreamConnection) {
        connection.pool = nil
        idle.withList(connection.endpoint) { list in
            if let index = list.firstIndex(where: { $0 === connection }) { list.remove(at: index) }
        }
    }

    /// Opens a new connection: TCP (with the connect timeout), TLS with SNI and verification for HTTPS, the HTTP/1.1
    /// response decoder (`ResponseDecoder`) and an `UpstreamConnection` at the end.
    /// The channel's last handler is its `UpstreamConnection`.
    func connect(_ target: UpstreamTarget) -> EventLoopFuture<any Channel> {
        let endpoint = target.endpoint
        let sslContext = endpoint.tls ? context.sslContext : nil
        let serverName = target.hostIsIPAddress ? nil : endpoint.host
        if endpoint.tls && sslContext == nil {
            return eventLoop.makeFailedFuture(ProxyError.unreachable("TLS is not configured"))
        }
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(context.configuration.connectTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let sslContext {
                        try sync.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    }
                    // No request encoder nor header validation: `UpstreamConnection` encodes the request itself, and
                    // every header sent upstream is either the gateway's own or came through the client connection's
                    // HTTP parser, which refuses CR, LF and NUL in names and values.
                    let decoder = ResponseDecoder()
                    try sync.addHandler(ResponseDecodingHandler(decoder))
                    try sync.addHandler(UpstreamConnection(endpoint: endpoint, decoder: decoder))
                }
            }
        return bootstrap.connect(host: endpoint.host, port: endpoint.port)
    }

    /// Closes all idle connections and stops pooling.
    func closeAll() {
        closed = true
        sweep?.cancel()
        sweep = nil
        let all = idle.lists.flatMap(\.list)
        idle = IdleLists()
        for connection in all {
            connection.pool = nil
            connection.close()
        }
    }

    private func scheduleSweep() {
        guard sweep == nil else { return }
        let timeout = context.configuration.idleConnectionTimeout
        sweep = eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            sweep = nil
            let cutoff = context.clock.now() - timeout
            var stale: [UpstreamConnection] = []
            idle.filter { connection in
                if connection.idleSince > cutoff { return true }
                stale.append(connection)
                return false
            }
            for connection in stale {
                connection.pool = nil
                connection.close()
            }
            if !idle.isEmpty { scheduleSweep() }
        }
    }
}

/// A pool's idle connections by endpoint, the endpoint used last held apart from the others: a gateway mostly
/// forwards to one upstream, whose connections are then taken and given back without hashing its endpoint (the
/// three dictionary lookups a request made, each hashing the host's string, cost about 1,900 instructions).
private struct IdleLists {
    private var front: (endpoint: UpstreamTarget.Endpoint, list: [UpstreamConnection])?
    private var others: [UpstreamTarget.Endpoint: [UpstreamConnection]] = [:]

    /// Calls `body` with the list of `endpoint`, changed in place; the endpoint is brought to the front.
    mutating func withList<T>(_ endpoint: UpstreamTarget.Endpoint, _ body: (inout [UpstreamConnection]) -> T) -> T {
        if front?.endpoint != endpoint {
            if let old = front, !old.list.isEmpty { others[old.endpoint] = old.list }
            front = (endpoint, others.removeValue(forKey: endpoint) ?? [])
        }
        return body(&front!.list)
    }

    /// Every endpoint's list (none empty but perhaps the front one's).
    var lists: [(endpoint: UpstreamTarget.Endpoint, list: [UpstreamConnection])] {
        (front.map { [$0] } ?? []) + others.map { ($0.key, $0.value) }
    }

    var isEmpty: Bool { (front?.list.isEmpty ?? true) && others.isEmpty }

    /// Keeps the connections `keep` returns true for; an endpoint left without any is forgotten.
    mutating func filter(_ keep: (UpstreamConnection) -> Bool) {
        if let old = front {
            let kept = old.list.filter(keep)
            front = kept.isEmpty ? nil : (old.endpoint, kept)
        }
        for (endpoint, list) in others {
            let kept = list.filter(keep)
            others[endpoint] = kept.isEmpty ? nil : kept
        }
    }
}
