import CoreMetrics
import Prometheus

/// A Prometheus registry of its own per gateway (never the process-wide metrics system, so gateways in one process
/// keep their figures apart), and its text exposition.
struct PrometheusExporter: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: any MetricsFactory

    /// Commit buckets from 0.5 ms to 1 s.
    static let commitBuckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
    ]

    /// Latency buckets from 5 ms to 60 s.
    static let latencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
        .seconds(30), .seconds(60),
    ]

    /// `histograms`: the buckets of each duration histogram, by name.
    init(histograms: [String: [Duration]]) {
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = histograms
        self.factory = factory
    }

    /// The registry's metrics in the Prometheus text format.
    func emit(into buffer: inout [UInt8]) {
        registry.emit(into: &buffer)
    }
}
