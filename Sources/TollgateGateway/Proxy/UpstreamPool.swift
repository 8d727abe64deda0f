import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import TollgateModel

/// Keep-alive connections to upstreams for one event loop. Used only on that loop, by the client connections
/// that loop serves, so no exchange ever hops loops and nothing here needs a lock.
final class UpstreamPool {
    let eventLoop: any EventLoop
    private unowned let context: ProxyContext
    /// Idle connections by endpoint. A gateway mostly forwards to one upstream, whose connections are then taken and
    /// given back without hashing its endpoint (`LastHitList`: the three dictionary lookups a request made, each
    /// hashing the host's string, cost about 1,900 instructions).
    private var idle = LastHitList<UpstreamTarget.Endpoint, [UpstreamConnection]>()
    private var sweep: Scheduled<Void>?
    private var closed = false

    init(eventLoop: any EventLoop, context: ProxyContext) {
        self.eventLoop = eventLoop
        self.context = context
    }

    var idleCount: Int { idle.values.reduce(0) { $0 + $1.count } }

    /// The most recently used idle connection to `endpoint` that is still open, if any.
    func checkout(_ endpoint: UpstreamTarget.Endpoint) -> UpstreamConnection? {
        while let connection = idle.withValue(endpoint, empty: [], { $0.popLast() }) {
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
        let pooled = idle.withValue(connection.endpoint, empty: []) { list in
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
        idle.withValue(connection.endpoint, empty: []) { list in
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
        let all = idle.values.flatMap { $0 }
        idle = LastHitList()
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
            // An endpoint left without idle connections is forgotten.
            idle.updateAll { list in
                list.removeAll { connection in
                    guard connection.idleSince <= cutoff else { return false }
                    stale.append(connection)
                    return true
                }
                return !list.isEmpty
            }
            for connection in stale {
                connection.pool = nil
                connection.close()
            }
            if !idle.isEmpty { scheduleSweep() }
        }
    }
}
