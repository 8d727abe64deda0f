import Hummingbird
import NIOCore
import TollgateStorage

/// `GET /metrics`: the gateway's figures in the Prometheus text format. What the ingest stage counted
/// (`GatewayMetrics`), then what is read at the scrape: the ingest queue (depth, accepted, dropped), the log store
/// (records appended, committed, failed; segments and their bytes by state) and the requests each account's log
/// quota refused. Takes the admin token
/// unless the gateway serves it publicly (`serve --metrics-public`).
struct MetricsRoutes {
    let api: APIServices
    let adminToken: [UInt8]

    init(api: APIServices, adminToken: String) {
        self.api = api
        self.adminToken = Array(adminToken.utf8)
    }

    func register(on router: Router<BasicRequestContext>) {
        router.on(RouterPath(String(Route.metrics.path.dropFirst())), method: Route.metrics.method) {
            request, _ in
            if !api.metricsPublic {
                guard let header = request.headers[.authorization],
                    let presented = TokenDirectory.bearerCredential(header)
                else { throw APIError.unauthorized }
                if !TokenDirectory.constantTimeEquals(presented, adminToken) {
                    throw api.directory.tokens.account(of: presented) == nil ? APIError.unauthorized : .forbidden
                }
            }
            _ = try await RouteInput(.metrics, request)
            let segments = try await api.blocking { try api.catalog.segments() }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: exposition(segments: segments))))
        }
    }

    /// The whole exposition; `segments` as the catalog lists them.
    func exposition(segments: [SegmentEntry]) -> [UInt8] {
        var out: [UInt8] = []
        api.metrics.exporter.emit(into: &out)
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: Int)]) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { text += "\(name)\(sample.labels) \(sample.value)\n" }
        }
        let queue = api.ingest.counters
        metric("tollgate_ingest_queue_depth", "gauge", "Exchanges waiting to be stored.", [("", queue.queued)])
        metric(
            "tollgate_ingest_accepted_total", "counter", "Exchanges taken into the ingest queue.",
            [("", queue.accepted)])
        metric(
            "tollgate_ingest_dropped_total", "counter", "Exchanges dropped because the ingest queue was full.",
            [("", queue.dropped)])
        let stored = api.store.writeStatus.statistics
        metric(
            "tollgate_store_records_appended_total", "counter", "Records appended to a segment.",
            [("", stored.recordsAppended)])
        metric(
            "tollgate_store_records_committed_total", "counter", "Records durable (fsynced) and indexed.",
            [("", stored.recordsCommitted)])
        metric(
            "tollgate_store_records_failed_total", "counter", "Records that could not be stored.",
            [("", stored.recordsFailed)])
        var counts: [String: Int] = [:]
        for segment in segments { counts[segment.state.rawValue, default: 0] += 1 }
        metric(
            "tollgate_store_segments", "gauge", "Segment files by state, as the catalog lists them.",
            counts.keys.sorted().map { (labels: "{state=\"\($0)\"}", value: counts[$0]!) })
        // The catalog records a segment's size when it is sealed; the active one's grows meanwhile.
        metric(
            "tollgate_store_sealed_segment_bytes", "gauge", "Bytes of the sealed segment files.",
            [("", segments.filter { $0.state == .sealed }.reduce(0) { $0 + Int($1.bytes) })])
        let refused = api.quota.refusedRequests.sorted { $0.key < $1.key }
        metric(
            "tollgate_quota_refused_total", "counter", "Requests refused (429) for a used-up monthly log quota.",
            refused.map { (labels: "{account=\"\($0.key)\"}", value: Int($0.value)) })
        out.append(contentsOf: text.utf8)
        return out
    }
}

extension Route {
    static let metrics = Route(
        .get, "/metrics",
        "The gateway's metrics in the Prometheus text format: requests, errors, cache hits, rate-limited and "
            + "spend-limited requests, tokens and cost by account, gateway and provider; proxy latency and TTFT "
            + "histograms by provider; store commit latency; ingest queue depth, accepted and dropped; store records "
            + "appended, committed and failed, segments by state, sealed bytes; requests refused by the log quota by "
            + "account.")
}
