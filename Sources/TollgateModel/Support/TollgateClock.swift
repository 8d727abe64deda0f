import Glibc

/// The one clock of a Tollgate process, injected: wall time in Unix milliseconds (record times, months, quotas,
/// retention, rate and spend windows, cache expiry, segment age) and monotonic time in nanoseconds (durations,
/// deadlines, timeouts, idle checks, time to first token). `GatewayApp.Configuration.clock` sets it for a whole
/// gateway, which hands it, or its wall reading as a `now: () -> Int64`, to every component it builds; a component
/// built on its own defaults to `system`. The command line reads `system` where it starts the work; tests set the
/// time. Timers themselves run on the event loops' time.
public struct TollgateClock: Sendable {
    /// Unix time in milliseconds.
    public var wallMilliseconds: @Sendable () -> Int64
    /// Nanoseconds from an arbitrary start that never moves backwards (the same start as `NIODeadline.now()`).
    public var monotonicNanoseconds: @Sendable () -> UInt64

    public init(
        wallMilliseconds: @escaping @Sendable () -> Int64,
        monotonicNanoseconds: @escaping @Sendable () -> UInt64 = TollgateClock.system.monotonicNanoseconds
    ) {
        self.wallMilliseconds = wallMilliseconds
        self.monotonicNanoseconds = monotonicNanoseconds
    }

    /// The machine's clocks: `CLOCK_REALTIME` and `CLOCK_MONOTONIC`.
    public static let system = TollgateClock(
        wallMilliseconds: {
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
        },
        monotonicNanoseconds: {
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
        })

    /// Wall time that always says `milliseconds`; monotonic time from the machine.
    public static func fixed(_ milliseconds: Int64) -> TollgateClock {
        TollgateClock(wallMilliseconds: { milliseconds })
    }

    /// The time since `start`, a reading of `monotonicNanoseconds`.
    public func elapsed(since start: UInt64) -> Duration {
        .nanoseconds(Int64(truncatingIfNeeded: monotonicNanoseconds() &- start))
    }
}
