/// How a request is tried again when its provider fails before a response byte reached the client: how many
/// attempts in all, the delay before each retry, and how that delay grows.
///
/// Set per gateway (`retry_max_attempts`, `retry_delay`, `retry_backoff`) or per request (`cf-aig-max-attempts`,
/// `cf-aig-retry-delay`, `cf-aig-backoff`), as Cloudflare AI Gateway names them. A pure value: the proxy asks it
/// whether an outcome is retried and how long to wait, and keeps the clock itself.
public struct RetryPolicy: Sendable, Hashable {
    public enum Backoff: String, Sendable, Hashable, CaseIterable {
        /// The same delay before every retry.
        case constant
        /// The delay times the retry's number: d, 2d, 3d, …
        case linear
        /// The delay doubled for each retry: d, 2d, 4d, …
        case exponential
    }

    /// Attempts in all, the first included: 1 (no retry) to `maximumAttempts`.
    public var maxAttempts: Int
    /// Milliseconds before the first retry: 0 to `maximumDelay`.
    public var delay: Int
    public var backoff: Backoff

    public static let maximumAttempts = 5
    public static let maximumDelay = 5_000
    /// The longest wait an upstream's `Retry-After` can ask for and still be honoured in full.
    public static let maximumRetryAfter = 5_000

    /// No retry.
    public static let none = RetryPolicy(maxAttempts: 1, delay: 0, backoff: .constant)

    public init(maxAttempts: Int, delay: Int, backoff: Backoff) {
        self.maxAttempts = maxAttempts
        self.delay = delay
        self.backoff = backoff
    }

    /// Statuses a provider answers when trying again may help: rate limited, server errors, and Anthropic's 529
    /// (overloaded).
    public static let retriedStatuses: Set<Int> = [429, 500, 502, 503, 504, 529]

    /// Why an attempt did not produce a response that goes to the client.
    public enum Failure: Sendable, Hashable {
        /// The connection could not be made, or broke before the response head.
        case connection
        /// No response byte within the request timeout.
        case timeout
        /// The provider answered with this status.
        case status(Int)
    }

    /// Whether the failure is one that a retry is for.
    public static func isRetried(_ failure: Failure) -> Bool {
        switch failure {
        case .connection, .timeout: true
        case .status(let status): retriedStatuses.contains(status)
        }
    }

    /// Milliseconds to wait before the next attempt, after attempt `attempt` (1-based) failed with `failure`; nil
    /// when that failure is not retried or no attempt is left. An upstream's `Retry-After` (milliseconds) lengthens
    /// the wait up to `maximumRetryAfter`; it never shortens it.
    public func wait(afterAttempt attempt: Int, failure: Failure, retryAfter: Int64? = nil) -> Int64? {
        guard Self.isRetried(failure), attempt >= 1, attempt < maxAttempts else { return nil }
        let base = Int64(delay)
        var wait: Int64
        switch backoff {
        case .constant: wait = base
        case .linear: wait = base * Int64(attempt)
        case .exponential: wait = base << Int64(attempt - 1)
        }
        if let retryAfter { wait = max(wait, min(retryAfter, Int64(Self.maximumRetryAfter))) }
        return wait
    }

    /// An upstream's `Retry-After`: delay-seconds, or an HTTP date counted from `now` (Unix ms). Nil when absent
    /// or malformed.
    public static func retryAfterMilliseconds(_ value: String?, now: Int64) -> Int64? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Int64(value), seconds >= 0 { return seconds * 1000 }
        guard let date = HTTPDate.parse(value) else { return nil }
        return max(0, date - now)
    }
}
