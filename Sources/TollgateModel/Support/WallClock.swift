import Glibc

/// The wall clock, as every component reads it: Unix time in milliseconds from a `@Sendable () -> Int64`. A
/// component that needs the time takes one (`now`, or `clock` in a configuration) defaulted to `WallClock.system`,
/// so a test can set the time; the command line reads `system` where it starts the work. Elapsed time is measured
/// with `ContinuousClock` or `NIODeadline` instead.
public enum WallClock {
    /// The system's real-time clock.
    public static let system: @Sendable () -> Int64 = {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// A clock that always says `milliseconds`.
    public static func fixed(_ milliseconds: Int64) -> @Sendable () -> Int64 { { milliseconds } }
}
