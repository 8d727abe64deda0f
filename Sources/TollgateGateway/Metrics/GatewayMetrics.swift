import CoreMetrics
import Synchronization
import TollgateAnalytics
import TollgateModel

/// The gateway's Prometheus metrics (`GET /metrics`), counted where the ingest stage turns exchanges into records,
/// never on the proxy's event loops: a record says its account, gateway, provider, status, tokens, whether it was a
/// cache hit or a refusal, and its timings; its cost comes from the price book.
///
/// Per account, gateway and provider: `tollgate_requests_total`, `tollgate_errors_total` (answered non-2xx, not a
/// refusal), `tollgate_cache_hits_total`, `tollgate_rate_limited_total`, `tollgate_spend_limited_total`,
/// `tollgate_tokens_total{direction="in"|"out"}` and `tollgate_cost_usd_total` (requests that reached a provider).
/// Per provider: `tollgate_proxy_duration_seconds` and `tollgate_proxy_ttft_seconds` histograms (requests that
/// reached a provider). `tollgate_store_commit_seconds`: commits that made records durable (fsync, then index). The
/// queue, store and quota figures are read when scraped (`MetricsRoutes`).
public final class GatewayMetrics: Sendable {
    let exporter: PrometheusExporter
    private let factory: any MetricsFactory

    public init() {
        exporter = PrometheusExporter(histograms: [
            "tollgate_proxy_duration_seconds": PrometheusExporter.latencyBuckets,
            "tollgate_proxy_ttft_seconds": PrometheusExporter.latencyBuckets,
            "tollgate_store_commit_seconds": PrometheusExporter.commitBuckets,
        ])
        factory = exporter.factory
    }

    /// Counts a batch of records as the ingest stage made them.
    public func record(_ records: [LogRecord], prices: [Int64?]) {
        precondition(prices.count == records.count)
        handles.withLock { handles in
            for (record, price) in zip(records, prices) {
                let key = SeriesKey(account: record.account, gateway: record.gateway, provider: record.provider)
                handles.series.withValue(key, empty: Series()) { $0.count(record, price: price, factory: factory) }
                guard !record.cached, record.refusal == nil else { continue }
                handles.timers.withValue(record.provider, empty: Timers()) { $0.time(record, factory: factory) }
            }
        }
    }

    /// A commit that made records durable: fsync of the active segment, then the index transaction.
    public func recordCommit(_ duration: Duration) {
        Timer(label: "tollgate_store_commit_seconds", dimensions: [], factory: factory)
            .recordNanoseconds(
                duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    /// The handles made so far, kept: making one (`Counter(label:dimensions:factory:)`) validates its name and
    /// labels and looks them up in the registry, which cost more than the counting itself. Each is made the first
    /// time it counts, so the registry holds the same series as when every record made its own.
    private let handles = Mutex(Handles())

    private struct Handles {
        var series = LastHitList<SeriesKey, Series>()
        var timers = LastHitList<String, Timers>()
    }

    private struct SeriesKey: Hashable {
        var account: String
        var gateway: String
        var provider: String
    }

    /// The counters of one account, gateway and provider.
    private struct Series {
        var requests: Counter?
        var cacheHits: Counter?
        var rateLimited: Counter?
        var spendLimited: Counter?
        var errors: Counter?
        var tokensIn: Counter?
        var tokensOut: Counter?
        var cost: FloatingPointCounter?

        mutating func count(_ record: LogRecord, price: Int64?, factory: any MetricsFactory) {
            func labels() -> [(String, String)] {
                [("account", record.account), ("gateway", record.gateway), ("provider", record.provider)]
            }
            func counter(_ name: String, _ extra: [(String, String)] = []) -> Counter {
                Counter(label: name, dimensions: labels() + extra, factory: factory)
            }
            made(&requests) { counter("tollgate_requests_total") }.increment()
            if record.cached { made(&cacheHits) { counter("tollgate_cache_hits_total") }.increment() }
            switch record.refusal {
            case .rateLimited: made(&rateLimited) { counter("tollgate_rate_limited_total") }.increment()
            case .spendLimitExceeded: made(&spendLimited) { counter("tollgate_spend_limited_total") }.increment()
            case nil: if !record.success { made(&errors) { counter("tollgate_errors_total") }.increment() }
            }
            guard !record.cached, record.refusal == nil else { return }
            if let tokens = record.usage.tokensIn, tokens > 0 {
                made(&tokensIn) { counter("tollgate_tokens_total", [("direction", "in")]) }.increment(by: tokens)
            }
            if let tokens = record.usage.tokensOut, tokens > 0 {
                made(&tokensOut) { counter("tollgate_tokens_total", [("direction", "out")]) }.increment(by: tokens)
            }
            if let cost = price, cost > 0 {
                made(&self.cost) {
                    FloatingPointCounter(label: "tollgate_cost_usd_total", dimensions: labels(), factory: factory)
                }.increment(by: Double(cost) / 1e12)
            }
        }
    }

    /// The timers of one provider.
    private struct Timers {
        var duration: Timer?
        var ttft: Timer?

        mutating func time(_ record: LogRecord, factory: any MetricsFactory) {
            made(&duration) {
                Timer(
                    label: "tollgate_proxy_duration_seconds", dimensions: [("provider", record.provider)],
                    factory: factory)
            }.recordMicroseconds(record.durationMicros)
            if let ttft = record.ttftMicros {
                made(&self.ttft) {
                    Timer(
                        label: "tollgate_proxy_ttft_seconds", dimensions: [("provider", record.provider)],
                        factory: factory)
                }.recordMicroseconds(ttft)
            }
        }
    }
}

/// The handle in `slot`, made and kept there the first time.
private func made<Handle>(_ slot: inout Handle?, _ make: () -> Handle) -> Handle {
    if let slot { return slot }
    let handle = make()
    slot = handle
    return handle
}
