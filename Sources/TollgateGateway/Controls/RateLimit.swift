import Synchronization

/// A gateway's rate limit: at most `limit` requests per `interval`, counted per gateway or per key.
///
/// Cloudflare's names: `rate_limiting_limit`, `rate_limiting_interval` (seconds), `rate_limiting_technique` and, past
/// Cloudflare, `rate_limiting_key` (per `cf-aig-authorization` token or per value of a `cf-aig-metadata` key).
public struct RateLimit: Sendable, Hashable {
    public typealias Technique = BudgetWindow.Technique

    /// What one budget of `limit` requests belongs to.
    public enum Key: Sendable, Hashable {
        /// The whole gateway.
        case gateway
        /// Each `cf-aig-authorization` token.
        case token
        /// Each value of this `cf-aig-metadata` key (requests without it share one budget).
        case metadata(String)

        /// `null`, `"token"` or `"metadata.<key>"`, as the setting is written.
        public var settingValue: String? {
            switch self {
            case .gateway: nil
            case .token: "token"
            case .metadata(let key): "metadata." + key
            }
        }

        /// The key a setting names, or nil when it names none.
        public init?(settingValue: String?) {
            guard let value = settingValue else {
                self = .gateway
                return
            }
            if value == "token" {
                self = .token
            } else if value.hasPrefix("metadata."), value.count > "metadata.".count {
                self = .metadata(String(value.dropFirst("metadata.".count)))
            } else {
                return nil
            }
        }
    }

    public var limit: Int
    /// Seconds.
    public var interval: Int
    public var technique: Technique
    public var key: Key

    public init(limit: Int, interval: Int, technique: Technique = .fixed, key: Key = .gateway) {
        self.limit = limit
        self.interval = interval
        self.technique = technique
        self.key = key
    }

    /// The largest interval accepted: 24 hours.
    public static let maximumInterval = 86_400
}

/// The rate limit budgets of every gateway, shared by the proxy's event loops: one `BudgetWindow` per (account,
/// gateway, key value), decided under one lock so that concurrent requests are counted exactly.
///
/// Windows are created on a budget's first request and forgotten once idle (checked every `pruneEvery` decisions),
/// so keys such as per-user metadata values cost memory only while they are in use. A new limit applies to what
/// was already counted; a new interval or technique starts the budgets afresh.
public final class RateLimiter: Sendable {
    /// What one budget belongs to.
    public struct Budget: Hashable, Sendable {
        public var account: String
        public var gateway: String
        /// The token id or metadata value the limit is kept per; empty for the whole gateway.
        public var key: String

        public init(account: String, gateway: String, key: String = "") {
            self.account = account
            self.gateway = gateway
            self.key = key
        }
    }

    private struct State {
        var windows: [Budget: BudgetWindow] = [:]
        var decisions = 0
    }

    private let state = Mutex(State())
    private let now: @Sendable () -> Int64
    private let pruneEvery: Int

    /// - Parameter now: the clock, Unix milliseconds.
    public init(now: @escaping @Sendable () -> Int64, pruneEvery: Int = 4096) {
        self.now = now
        self.pruneEvery = pruneEvery
    }

    /// Decides one request against `limit` for `budget`, counting it when admitted.
    public func admit(_ limit: RateLimit, _ budget: Budget) -> BudgetWindow.Decision {
        let instant = now()
        return state.withLock { state in
            state.decisions += 1
            if state.decisions % pruneEvery == 0 {
                state.windows = state.windows.filter { !$0.value.isIdle(at: instant) }
            }
            let length = Int64(limit.interval) * 1000
            var window = state.windows[budget]
            if window?.length != length || window?.technique != limit.technique {
                window = BudgetWindow(lengthMilliseconds: length, technique: limit.technique)
            }
            let decision = window!.take(1, limit: Int64(limit.limit), at: instant)
            state.windows[budget] = window
            return decision
        }
    }

    /// Budgets held now (for tests and metrics).
    public var budgetCount: Int { state.withLock { $0.windows.count } }
}
