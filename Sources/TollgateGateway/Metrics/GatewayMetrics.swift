import CoreMetrics
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
    public func record(_ records: [LogRecord], prices: PriceBook) {
        for record in records {
            let labels = [("account", record.account), ("gateway", record.gateway), ("provider", record.provider)]
            counter("tollgate_requests_total", labels).increment()
            if record.cached { counter("tollgate_cache_hits_total", labels).increment() }
            switch record.refusal {
            case .rateLimited: counter("tollgate_rate_limited_total", labels).increment()
            case .spendLimitExceeded: counter("tollgate_spend_limited_total", labels).increment()
            case nil: if !record.success { counter("tollgate_errors_total", labels).increment() }
            }
            guard !record.cached, record.refusal == nil else { continue }
            if let tokens = record.usage.tokensIn, tokens > 0 {
                counter("tollgate_tokens_total", labels + [("direction", "in")]).increment(by: tokens)
            }
            if let tokens = record.usage.tokensOut, tokens > 0 {
                counter("tollgate_tokens_total", labels + [("direction", "out")]).increment(by: tokens)
            }
            if let cost = prices.cost(of: record), cost > 0 {
                FloatingPointCounter(label: "tollgate_cost_usd_total", dimensions: labels, factory: factory)
                    .increment(by: Double(cost) / 1e12)
            }
            let provider = [("provider", record.provider)]
            Timer(label: "tollgate_proxy_duration_seconds", dimensions: provider, factory: factory)
                .recordMicroseconds(record.durationMicros)
            if let ttft = record.ttftMicros {
                Timer(label: "tollgate_proxy_ttft_seconds", dimensions: provider, factory: factory)
                    .recordMicroseconds(ttft)
            }
        }
    }

    /// A commit that made records durable: fsync of the active segment, then the index transaction.
    public func recordCommit(_ duration: Duration) {
        Timer(label: "tollgate_store_commit_seconds", dimensions: [], factory: factory)
            .recordNanoseconds(
                duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    private func counter(_ name: String, _ labels: [(String, String)]) -> Counter {
        Counter(label: name, dimensions: labels, factory: factory)
    }
}
