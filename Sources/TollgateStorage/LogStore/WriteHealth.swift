/// Whether the log store can write, since when it cannot, and when to try again: a pure state machine, fed
/// failures, successes and times (milliseconds, from the store's injected clock), returning what changed. No I/O.
///
/// A failure starts (or continues) a *failing* episode; the first success ends it. While failing, the store retries
/// at every new batch and, with nothing new to write, once `nextRetryAt` has passed: the delay after the n-th failed
/// attempt is `initialRetryMillis · 2ⁿ⁻¹`, at most `maxRetryMillis`. A change (healthy → failing, another reason,
/// failing → healthy) is reported once, so the store logs once per change and not once per record.
public struct WriteHealth: Sendable, Equatable {
    /// What the store was doing when a write failed.
    public enum Operation: String, Sendable, Equatable {
        /// Writing frames to the active segment (`pwrite`).
        case append = "segment write"
        /// An `fsync` of the active segment.
        case sync = "segment fsync"
        /// Creating a segment, or another step of a rotation.
        case rotate = "segment rotation"
        /// Indexing durable records in the catalog, or the rollups' checkpoint.
        case catalogCommit = "catalog commit"
        /// Cutting the active segment back to its last durable frame.
        case repair = "segment repair"
    }

    /// A failing episode.
    public struct Failure: Sendable, Equatable {
        /// The operation and error of the newest failure, short (e.g. "No space left on device"; no paths).
        public var operation: Operation
        public var reason: String
        /// When the episode started.
        public var since: Int64
        /// Failed attempts in this episode.
        public var attempts: Int
        /// When the store retries if nothing new arrives before.
        public var nextRetryAt: Int64
    }

    /// The newest error, kept after the store recovers.
    public struct LastError: Sendable, Equatable {
        public var operation: Operation
        /// The whole error (system call, path, message; never record contents).
        public var message: String
        public var at: Int64
    }

    /// What a call changed, for the one log line per change.
    public enum Change: Sendable, Equatable {
        case none
        /// Healthy → failing.
        case startedFailing
        /// Still failing, for another operation or reason.
        case reasonChanged
        /// Failing → healthy, after `failedFor` milliseconds and `attempts` failed attempts.
        case recovered(failedFor: Int64, attempts: Int)
    }

    public var initialRetryMillis: Int64
    public var maxRetryMillis: Int64
    public private(set) var failure: Failure?
    public private(set) var lastError: LastError?

    public init(initialRetryMillis: Int64 = 250, maxRetryMillis: Int64 = 5_000) {
        precondition(initialRetryMillis > 0 && maxRetryMillis >= initialRetryMillis)
        self.initialRetryMillis = initialRetryMillis
        self.maxRetryMillis = maxRetryMillis
    }

    public var isHealthy: Bool { failure == nil }

    /// A write failed at `now`, for `reason` (short), described in full by `message`.
    public mutating func failed(_ operation: Operation, reason: String, message: String? = nil, now: Int64) -> Change {
        lastError = LastError(operation: operation, message: message ?? reason, at: now)
        guard var current = failure else {
            failure = Failure(
                operation: operation, reason: reason, since: now, attempts: 1,
                nextRetryAt: now + delay(afterAttempts: 1))
            return .startedFailing
        }
        let changed = current.operation != operation || current.reason != reason
        current.operation = operation
        current.reason = reason
        current.attempts += 1
        current.nextRetryAt = now + delay(afterAttempts: current.attempts)
        failure = current
        return changed ? .reasonChanged : .none
    }

    /// A write (and its commit) succeeded at `now`.
    public mutating func succeeded(now: Int64) -> Change {
        guard let current = failure else { return .none }
        failure = nil
        return .recovered(failedFor: now - current.since, attempts: current.attempts)
    }

    /// Whether a retry with nothing new to write is due at `now` (always true while healthy).
    public func isRetryDue(now: Int64) -> Bool {
        guard let failure else { return true }
        return now >= failure.nextRetryAt
    }

    /// The wait after `attempts` failed attempts.
    public func delay(afterAttempts attempts: Int) -> Int64 {
        var delay = initialRetryMillis
        var n = 1
        while n < attempts && delay < maxRetryMillis {
            delay *= 2
            n += 1
        }
        return min(delay, maxRetryMillis)
    }
}
