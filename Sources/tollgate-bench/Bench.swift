import ArgumentParser

/// Benchmarks, run in release mode: `swift run -c release tollgate-bench store`. The proxy benchmark (wrk against
/// the mock provider direct, through nginx and through Tollgate) is `scripts/bench-proxy.sh`.
@main
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tollgate-bench",
        abstract: "Tollgate benchmarks (build with -c release).",
        subcommands: [
            StoreBenchmark.self, RollupBenchmark.self, UsageBenchmark.self, ListingBenchmark.self, ScanBenchmark.self,
        ]
    )
}
