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

    /// Counts a batch of records as the ingest stage made them. The counts are summed per account, gateway and
    /// provider first and each counter moved once a batch: a counter's increment takes its lock, and a record moved
    /// up to five of them. Durations are observed one by one (a histogram needs each value).
    public func record(_ records: [LogRecord], prices: [Int64?]) {
        precondition(prices.count == records.count)
        var sums = BatchSums()
        handles.withLock { handles in
            // Each record is read through a pointer: the array's element would be a copy of it.
            records.withUnsafeBufferPointer { buffer in
                guard let record = buffer.baseAddress else { return }
                for i in buffer.indices {
                    sums.add(record + i, price: prices[i])
                    guard !record[i].cached, record[i].refusal == nil else { continue }
                    // The timings are read before the call: a record passed on would be copied first.
                    let duration = record[i].durationMicros
                    let ttft = record[i].ttftMicros
                    handles.timers.withValue(record[i].provider, empty: Timers()) {
                        $0.time(duration: duration, ttft: ttft, of: record[i].provider, factory: factory)
                    }
                }
            }
            sums.forEach { key, sum in
                handles.series.withValue(key, empty: Series()) { $0.count(sum, of: key, factory: factory) }
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

        @inline(__always)
        init(of record: borrowing LogRecord) {
            account = record.account
            gateway = record.gateway
            provider = record.provider
        }

        /// Whether `record` is of this series.
        @inline(__always)
        func holds(_ record: borrowing LogRecord) -> Bool {
            provider == record.provider && gateway == record.gateway && account == record.account
        }
    }

    /// A batch's sums by series. A batch nearly always holds one series, kept inline; the others are found by
    /// comparing with the one before, then with each (a batch holds few).
    private struct BatchSums {
        private var first: (key: SeriesKey, sum: Sums)?
        private var others: [(key: SeriesKey, sum: Sums)] = []
        /// Which of `others` the record before was of; -1: `first`.
        private var last = -1

        /// Takes the record through a pointer: a record passed by value would be copied first, every text
        /// retained and released, since finding its series calls on.
        mutating func add(_ record: UnsafePointer<LogRecord>, price: Int64?) {
            if last >= 0 && others[last].key.holds(record.pointee) {
                others[last].sum.add(record.pointee, price: price)
                return
            }
            if first == nil { first = (SeriesKey(of: record.pointee), Sums()) }
            if first!.key.holds(record.pointee) {
                last = -1
                first!.sum.add(record.pointee, price: price)
                return
            }
            if let found = others.firstIndex(where: { $0.key.holds(record.pointee) }) {
                last = found
            } else {
                last = others.count
                others.append((SeriesKey(of: record.pointee), Sums()))
            }
            others[last].sum.add(record.pointee, price: price)
        }

        func forEach(_ body: (SeriesKey, Sums) -> Void) {
            guard let first else { return }
            body(first.key, first.sum)
            for (key, sum) in others { body(key, sum) }
        }
    }

    /// What a batch's records of one series add to its counters.
    private struct Sums {
        var requests: Int64 = 0
        var cacheHits: Int64 = 0
        var rateLimited: Int64 = 0
        var spendLimited: Int64 = 0
        var errors: Int64 = 0
        var tokensIn: Int64 = 0
        var tokensOut: Int64 = 0
        /// Picodollars.
        var cost: Int64 = 0

        @inline(__always)
        mutating func add(_ record: borrowing LogRecord, price: Int64?) {
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
            if let price, price > 0 { cost &+= price }
        }
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

        /// Moves each counter by its sum; a counter is made the first time its sum is above zero.
        mutating func count(_ sum: Sums, of key: SeriesKey, factory: any MetricsFactory) {
            func counter(_ name: String, _ extra: [(String, String)] = []) -> Counter {
                Counter(
                    label: name,
                    dimensions: [("account", key.account), ("gateway", key.gateway), ("provider", key.provider)]
                        + extra,
                    factory: factory)
            }
            made(&requests) { counter("tollgate_requests_total") }.increment(by: sum.requests)
            if sum.cacheHits > 0 {
                made(&cacheHits) { counter("tollgate_cache_hits_total") }.increment(by: sum.cacheHits)
            }
            if sum.rateLimited > 0 {
                made(&rateLimited) { counter("tollgate_rate_limited_total") }.increment(by: sum.rateLimited)
            }
            if sum.spendLimited > 0 {
                made(&spendLimited) { counter("tollgate_spend_limited_total") }.increment(by: sum.spendLimited)
            }
            if sum.errors > 0 { made(&errors) { counter("tollgate_errors_total") }.increment(by: sum.errors) }
            if sum.tokensIn > 0 {
                made(&tokensIn) { counter("tollgate_tokens_total", [("direction", "in")]) }.increment(by: sum.tokensIn)
            }
            if sum.tokensOut > 0 {
                made(&tokensOut) { counter("tollgate_tokens_total", [("direction", "out")]) }
                    .increment(by: sum.tokensOut)
            }
            if sum.cost > 0 {
                made(&cost) {
                    FloatingPointCounter(
                        label: "tollgate_cost_usd_total",
                        dimensions: [("account", key.account), ("gateway", key.gateway), ("provider", key.provider)],
                        factory: factory)
                }.increment(by: Double(sum.cost) / 1e12)
            }
        }
    }

    /// The timers of one provider.
    private struct Timers {
        var duration: Timer?
        var ttft: Timer?

        mutating func time(duration micros: Int64, ttft: Int64?, of provider: String, factory: any MetricsFactory) {
            made(&duration) {
                Timer(label: "tollgate_proxy_duration_seconds", dimensions: [("provider", provider)], factory: factory)
            }.recordMicroseconds(micros)
            if let ttft {
                made(&self.ttft) {
                    Timer(label: "tollgate_proxy_ttft_seconds", dimensions: [("provider", provider)], factory: factory)
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
