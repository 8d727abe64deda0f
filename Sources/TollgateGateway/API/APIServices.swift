import Hummingbird
import NIOPosix
import TollgateAnalytics
import TollgateModel
import TollgateStorage

/// What the REST API reads and writes: the catalog, the log store, the ledger (prices, rollups), the proxy's gateway
/// directory, the ingest queue's counters and the retention service.
public struct APIServices: Sendable {
    public let catalog: Catalog
    public let store: LogStore
    public let ledger: Ledger
    public let quota: LogQuota
    public let directory: GatewayDirectory
    public let ingest: IngestQueue
    /// Runs retention and compaction passes on request (`POST /api/v1/compact`); nil: the route answers 503.
    public let retention: RetentionService?
    /// Rate limit budgets and spend ledgers (`GET …/spend` reads the ledgers).
    public let controls: TrafficControls
    /// The response cache (a gateway's entries are removed when its settings change with
    /// `cache_invalidate_on_update`); nil: none.
    public let cache: ResponseCaching?
    /// What `GET /metrics` reports.
    public let metrics: GatewayMetrics
    /// `GET /metrics` without a token.
    public let metricsPublic: Bool
    /// The wall clock (Unix ms): the default range of usage queries, the current month, when a log was annotated.
    public let now: @Sendable () -> Int64
    let threadPool: NIOThreadPool

    public init(
        catalog: Catalog, store: LogStore, ledger: Ledger, quota: LogQuota, directory: GatewayDirectory,
        ingest: IngestQueue, retention: RetentionService? = nil, controls: TrafficControls = TrafficControls(),
        cache: ResponseCaching? = nil, metrics: GatewayMetrics = GatewayMetrics(), metricsPublic: Bool = false,
        now: @escaping @Sendable () -> Int64 = TollgateClock.system.wallMilliseconds,
        threadPool: NIOThreadPool = .singleton
    ) {
        self.now = now
        self.metrics = metrics
        self.metricsPublic = metricsPublic
        self.cache = cache
        self.controls = controls
        self.catalog = catalog
        self.store = store
        self.ledger = ledger
        self.quota = quota
        self.directory = directory
        self.ingest = ingest
        self.retention = retention
        self.threadPool = threadPool
    }

    /// Runs blocking storage work (SQLite, segment reads) on the thread pool, off the event loops and off the
    /// concurrency pool.
    func blocking<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await threadPool.runIfActive(work)
    }

    /// The account named by the `:account` path parameter, or 404.
    func requireAccount(_ context: some RequestContext) async throws -> Account {
        let id = try context.parameters.require("account")
        guard Identifier.isValid(id), let account = try await blocking({ try catalog.account(id) }) else {
            throw APIError.notFound("account \(id)")
        }
        return account
    }
}

/// A JSON response built with a `JSONWriter`.
func json(status: HTTPResponse.Status = .ok, _ write: (inout JSONWriter) -> Void) -> Response {
    var writer = JSONWriter()
    write(&writer)
    return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: writer.buffer))
}

/// `{"<key>":[…]}`: a list response, each item written by `item`.
func jsonList<Item>(_ key: String, _ items: [Item], _ item: (inout JSONWriter, Item) -> Void) -> Response {
    json {
        $0.beginObject()
        $0.key(key)
        $0.beginArray()
        for element in items { item(&$0, element) }
        $0.endArray()
        $0.endObject()
    }
}
