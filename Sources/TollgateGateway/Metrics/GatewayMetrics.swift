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
            // Consecutive records of one account, gateway and provider are tallied, then counted once.
            var run: SeriesKey?
            var tally = Tally()
            for (record, price) in zip(records, prices) {
                let key = SeriesKey(account: record.account, gateway: record.gateway, provider: record.provider)
                if key != run {
                    if let run { handles.series[run, default: Series()].count(tally, of: run, factory: factory) }
                    run = key
                    tally = Tally()
                }
                tally.add(record, price: price)
                guard !record.cached, record.refusal == nil else { continue }
                handles.timers[record.provider, default: Timers()].time(record, factory: factory)
            }
            if let run { handles.series[run, default: Series()].count(tally, of: run, factory: factory) }
        }
    }

    /// What a run of records adds to their series' counters.
    private struct Tally {
        var requests = 0
        var cacheHits = 0
        var rateLimited = 0
        var spendLimited = 0
        var errors = 0
        var tokensIn: Int64 = 0
        var tokensOut: Int64 = 0
        /// Picodollars.
        var cost: Int64 = 0

        mutating func add(_ record: LogRecord, price: Int64?) {
            requests += 1
            if record.cached { cacheHits += 1 }
            switch record.refusal {
            case .rateLimited: rateLimited += 1
            case .spendLimitExceeded: spendLimited += 1
            case nil: if !record.success { errors += 1 }
            }
            guard !record.cached, record.refusal == nil else { return }
            if let tokens = record.usage.tokensIn, tokens > 0 { tokensIn &+= tokens }
            if let tokens = record.usage.tokensOut, tokens > 0 { tokensOut &+= tokens }
            if let price, price > 0 { cost = cost.addingReportingOverflow(price).overflow ? .max : cost + price }
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
        var series: [SeriesKey: Series] = [:]
        var timers: [String: Timers] = [:]
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

        /// Adds a run's tally; a counter is made the first time it has something to count.
        mutating func count(_ tally: Tally, of key: SeriesKey, factory: any MetricsFactory) {
            func labels() -> [(String, String)] {
                [("account", key.account), ("gateway", key.gateway), ("provider", key.provider)]
            }
            func counter(_ name: String, _ extra: [(String, String)] = []) -> Counter {
                Counter(label: name, dimensions: labels() + extra, factory: factory)
            }
            func add(_ slot: inout Counter?, _ amount: Int64, _ make: () -> Counter) {
                if amount > 0 { made(&slot, make).increment(by: amount) }
            }
            add(&requests, Int64(tally.requests)) { counter("tollgate_requests_total") }
            add(&cacheHits, Int64(tally.cacheHits)) { counter("tollgate_cache_hits_total") }
            add(&rateLimited, Int64(tally.rateLimited)) { counter("tollgate_rate_limited_total") }
            add(&spendLimited, Int64(tally.spendLimited)) { counter("tollgate_spend_limited_total") }
            add(&errors, Int64(tally.errors)) { counter("tollgate_errors_total") }
            add(&tokensIn, tally.tokensIn) { counter("tollgate_tokens_total", [("direction", "in")]) }
            add(&tokensOut, tally.tokensOut) { counter("tollgate_tokens_total", [("direction", "out")]) }
            if tally.cost > 0 {
                made(&self.cost) {
                    FloatingPointCounter(label: "tollgate_cost_usd_total", dimensions: labels(), factory: factory)
                }.increment(by: Double(tally.cost) / 1e12)
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
