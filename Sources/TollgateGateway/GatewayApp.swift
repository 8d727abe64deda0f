import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import TollgateAnalytics
import TollgateModel
import TollgateStorage
import UnixSignals

/// One gateway process, assembled: the log store in a data folder, the proxy and REST API on one port, and the
/// ingest service between them. `tollgate serve` runs it; end-to-end tests run it in-process.
public struct GatewayApp: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        /// 0 picks a free port; `onListening` receives the bound one.
        public var port = 8787
        public var dataDirectory: String
        public var providers: ProviderTable = .builtIn
        public var adminToken: String
        public var store = LogStore.Configuration()
        public var ingest = IngestService.Configuration()
        public var retention = RetentionService.Configuration()
        public var proxy = ProxyConfiguration()
        /// The response cache in the data folder's `cache/` (bound, sweep interval, clock).
        public var cache = ResponseCaching.Configuration()
        public var queueCapacity = 65_536
        /// `GET /metrics` without a token; by default it takes the admin token.
        public var metricsPublic = false
        /// The master key provider keys are sealed under, base64 of 32 bytes (`TOLLGATE_MASTER_KEY`); nil: the data
        /// folder's `master.key`, generated on first start.
        public var masterKey: String? = ProcessInfo.processInfo.environment[MasterKey.environmentVariable]
        public var onListening: @Sendable (_ port: Int) -> Void = { _ in }
        /// The one clock of the gateway: the store (and its catalog, prices and rollups; it replaces
        /// `store.segments.clock`), the proxy (record times, durations, timeouts), the API, the log quota, rate and
        /// spend limits, retention, the cache and the ingest service read it. Tests set it.
        public var clock: TollgateClock = .system

        public init(dataDirectory: String, adminToken: String) {
            self.dataDirectory = dataDirectory
            self.adminToken = adminToken
        }
    }

    public let store: LogStore
    public let ledger: Ledger
    public let queue: IngestQueue
    public let quota: LogQuota
    public let directory: GatewayDirectory
    /// Rate limit budgets and spend ledgers.
    public let controls: TrafficControls
    let ingest: IngestService
    public let retention: RetentionService
    /// The response cache.
    public let cache: ResponseCaching
    /// What `GET /metrics` reports, counted at ingest.
    public let metrics: GatewayMetrics
    let proxy: ProxyContext
    let app: Application<RouterResponder<BasicRequestContext>>
    /// What the REST API works on; declarations (`apply(_:)`) go through it too.
    let api: APIServices

    public init(configuration c: Configuration, logger: Logger) throws {
        Heap.configure()
        // A malformed master key is refused before the data folder is touched.
        if let configured = c.masterKey { _ = try MasterKey.decode(configured, from: MasterKey.environmentVariable) }
        var storeConfiguration = c.store
        storeConfiguration.segments.clock = c.clock
        (ledger, store) = try Ledger.openStore(
            directory: c.dataDirectory, configuration: storeConfiguration, logger: logger)
        let gateways = try store.catalog.allGateways().map { GatewayDirectory.Entry($0) }
        directory = GatewayDirectory(
            gateways,
            tokens: TokenDirectory(
                try store.catalog.activeTokens().map { .init(account: $0.account, id: $0.id, hash: $0.hash) }),
            customProviders: CustomProviderDirectory(try store.catalog.allCustomProviders()),
            providerKeys: try ProviderKeyDirectory(
                masterKey: MasterKey.load(configured: c.masterKey, dataDirectory: c.dataDirectory),
                stored: store.catalog.allProviderKeys()))
        // After the store's recovery, so the month's stored counts include what it re-indexed.
        let quota = try LogQuota(catalog: store.catalog, logger: logger, now: c.clock.wallMilliseconds)
        self.quota = quota
        queue = IngestQueue(
            capacity: c.queueCapacity, batchSize: c.ingest.batchSize, clock: c.clock, logger: logger
        ) { dropped in
            if dropped.quotaReserved { quota.release(account: dropped.account, admitted: dropped.startedAt) }
        }
        // Spend counted before this start comes back from the stored costs (the rollups are caught up by now).
        let controls = TrafficControls(now: c.clock.wallMilliseconds)
        let rebuilt = try controls.rebuildSpend(gateways, rollups: ledger.rollups, catalog: store.catalog)
        if rebuilt > 0 { logger.info("spend limits rebuilt from stored costs", metadata: ["rules": "\(rebuilt)"]) }
        self.controls = controls
        let directory = self.directory
        let metrics = GatewayMetrics()
        self.metrics = metrics
        ingest = IngestService(
            queue: queue, store: store, providers: c.providers, configuration: c.ingest, quota: quota,
            recorded: { records, prices in
                controls.recordSpend(records, prices: prices, directory: directory)
                metrics.record(records, prices: prices)
            }, committed: { metrics.recordCommit($0) }, clock: c.clock, logger: logger)
        retention = RetentionService(
            store: store, configuration: c.retention, quota: quota, now: c.clock.wallMilliseconds, logger: logger)
        let cache = try ResponseCaching(
            directory: c.dataDirectory + "/cache", configuration: c.cache, now: c.clock.wallMilliseconds, logger: logger
        )
        self.cache = cache
        api = APIServices(
            catalog: store.catalog, store: store, ledger: ledger, quota: quota, directory: directory, ingest: queue,
            retention: retention, controls: controls, cache: cache, metrics: metrics, metricsPublic: c.metricsPublic,
            now: c.clock.wallMilliseconds)
        proxy = try ProxyContext(
            providers: c.providers, directory: directory, sink: queue, generator: LogIDGenerator(), logger: logger,
            configuration: c.proxy, quota: quota, controls: controls, cache: cache, clock: c.clock)
        let onListening = c.onListening
        let host = c.host
        app = Application(
            router: APIRouter.make(api: api, adminToken: c.adminToken),
            server: .tollgate(proxy: proxy),
            configuration: .init(address: .hostname(c.host, port: c.port), serverName: nil),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                logger.info("tollgate listening", metadata: ["http.address": "\(host):\(port)"])
                onListening(port)
            },
            logger: logger
        )
    }

    /// The services in start order. Shutdown runs in reverse: the HTTP server stops first (in-flight exchanges
    /// finish), then the proxy closes its pooled upstream connections, then the cache stops sweeping and its I/O
    /// threads finish the stores in progress, then the retention service stops (between two segments of a pass),
    /// then the ingest service drains the queue, commits and seals.
    public var services: [any Service] { [ingest, retention, cache, proxy, app] }

    /// Runs until SIGTERM or SIGINT (or `gracefulShutdown()` on a surrounding group), then stops cleanly.
    public func run(logger: Logger, signals: [UnixSignal] = [.sigterm, .sigint]) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: signals,
                logger: logger
            )
        )
        try await group.run()
    }
}
