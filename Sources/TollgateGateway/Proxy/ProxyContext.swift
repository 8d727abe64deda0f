import Logging
import NIOCore
import NIOSSL
import Synchronization
import TollgateModel
import TollgateStorage

/// Everything the proxy handlers share: providers, the gateway directory, where exchanges go, the id generator,
/// limits, the TLS context and one upstream connection pool per event loop.
///
/// Create one per server and hand it to `HTTPServerBuilder.tollgate(proxy:)`.
public final class ProxyContext: Sendable {
    public let providers: ProviderTable
    public let directory: GatewayDirectory
    public let sink: any ExchangeSink
    public let generator: LogIDGenerator
    public let logger: Logger
    public let configuration: ProxyConfiguration
    /// Monthly log quotas, asked when a logged request starts; nil: no quota.
    public let quota: LogQuota?
    /// Rate limit budgets and spend ledgers, asked when a request starts.
    public let controls: TrafficControls
    /// Where the proxy reads the time: every event its state machines take carries it from here.
    public let clock: TollgateClock
    /// The response cache; nil: no request is cached.
    public let cache: ResponseCaching?

    /// Each provider's base URL taken apart, by slug.
    let upstreams: [String: UpstreamTarget]
    /// The 400 message for an unknown provider, listing the known slugs.
    let unknownProviderMessage: String
    /// Shared by all HTTPS upstream connections; nil when no provider uses HTTPS.
    let sslContext: NIOSSLContext?
    private let pools = Mutex<[ObjectIdentifier: NIOLoopBound<UpstreamPool>]>([:])
    private let shuttingDown = Atomic<Bool>(false)

    /// Throws when a provider's base URL is not `http[s]://host[:port][/path]` or the TLS settings are invalid.
    public init(
        providers: ProviderTable,
        directory: GatewayDirectory,
        sink: any ExchangeSink,
        generator: LogIDGenerator,
        logger: Logger,
        configuration: ProxyConfiguration = .init(),
        quota: LogQuota? = nil,
        controls: TrafficControls = TrafficControls(),
        cache: ResponseCaching? = nil,
        clock: TollgateClock = .system
    ) throws {
        self.clock = clock
        self.cache = cache
        self.quota = quota
        self.controls = controls
        self.providers = providers
        self.directory = directory
        self.sink = sink
        self.generator = generator
        self.logger = logger
        self.configuration = configuration
        var upstreams: [String: UpstreamTarget] = [:]
        for slug in providers.slugs {
            guard let provider = providers.provider(slug) else { continue }
            let made =
                provider.template.map { UpstreamTarget(template: $0, baseURL: provider.baseURL) }
                ?? UpstreamTarget(baseURL: provider.baseURL)
            guard var target = made else {
                throw ProxyError(.invalidConfiguration, "provider \(slug) has an unusable base URL")
            }
            target.streamUsagePaths = provider.streamUsagePaths
            target.templateAccount = provider.templateAccount
            upstreams[slug] = target
        }
        self.upstreams = upstreams
        self.unknownProviderMessage = "unknown provider; known providers: " + providers.slugs.joined(separator: ", ")
        if upstreams.values.contains(where: { $0.endpoint.tls }) {
            var tls = configuration.tls
            if !configuration.extraTrustRoots.isEmpty {
                tls.additionalTrustRoots.append(.certificates(configuration.extraTrustRoots))
            }
            do {
                self.sslContext = try NIOSSLContext(configuration: tls)
            } catch {
                throw ProxyError(.invalidConfiguration, "TLS configuration rejected: \(error)")
            }
        } else {
            self.sslContext = nil
        }
    }

    /// The upstream a request's provider segment names: a built-in provider, or one of the account's custom
    /// providers (`custom-{slug}`); nil when it names neither.
    func upstream(_ provider: some StringProtocol, account: String) -> UpstreamTarget? {
        upstreams[String(provider)] ?? directory.customProviders.lookup(account: account, provider: provider)?.target
    }

    /// Whether `closeIdleConnections()` was called: connections are then closed after use instead of pooled.
    var isShuttingDown: Bool { shuttingDown.load(ordering: .relaxed) }

    /// The pool of `eventLoop`; call on that loop.
    func pool(for eventLoop: any EventLoop) -> UpstreamPool {
        let key = ObjectIdentifier(eventLoop)
        let bound = pools.withLock { pools -> NIOLoopBound<UpstreamPool> in
            if let existing = pools[key] { return existing }
            let made = NIOLoopBound(UpstreamPool(eventLoop: eventLoop, context: self), eventLoop: eventLoop)
            pools[key] = made
            return made
        }
        return bound.value
    }

    /// Closes every idle pooled upstream connection and stops pooling; in-flight exchanges finish on their
    /// connections, which then close. Call when the server shuts down.
    public func closeIdleConnections() async {
        shuttingDown.store(true, ordering: .relaxed)
        let all = pools.withLock { Array($0.values) }
        for bound in all {
            try? await bound.eventLoop.submit { bound.value.closeAll() }.get()
        }
    }

    /// Idle pooled connections right now, over all event loops (for tests and metrics).
    public func idleConnectionCount() async -> Int {
        let all = pools.withLock { Array($0.values) }
        var total = 0
        for bound in all {
            total += (try? await bound.eventLoop.submit { bound.value.idleCount }.get()) ?? 0
        }
        return total
    }
}

extension ProxyContext {
    /// A new log's id, stamped with the injected clock's wall time.
    func nextLogID() -> LogID { generator.next(millisecondsSinceEpoch: clock.wallMilliseconds()) }
}

extension TollgateClock {
    /// The monotonic reading as the event loops count time: the proxy's state machines' events carry it
    /// (deadlines, durations, TTFT, idle checks). Timers themselves are scheduled on the event loop.
    func now() -> NIODeadline { .uptimeNanoseconds(monotonicNanoseconds()) }
}
