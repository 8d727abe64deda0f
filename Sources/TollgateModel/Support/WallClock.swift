import Foundation

/// The wall clock, as every component reads it: Unix time in milliseconds from a `@Sendable () -> Int64`. A
/// component that needs the time takes one (`now`, or `clock` in a configuration) defaulted to `WallClock.system`,
/// so a test can set the time; the command line reads `system` where it starts the work. Elapsed time is measured
/// with `ContinuousClock` or `NIODeadline` instead.
public enum WallClock {
    /// The system's real-time clock.
    public static let system: @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }

    /// A clock that always says `milliseconds`.
    public static func fixed(_ milliseconds: Int64) -> @Sendable () -> Int64 { { milliseconds } }
}
