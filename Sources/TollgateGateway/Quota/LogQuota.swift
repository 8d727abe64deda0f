import Foundation
import Logging
import Synchronization
import TollgateModel
import TollgateStorage

/// Monthly log quotas, enforced exactly at the edge.
///
/// Each account may store `monthlyLogLimit` logs per calendar month (UTC). The proxy asks `admit` when a request
/// starts, on its event loop: while the month's stored logs plus the logs still on their way to the index
/// (reservations) are below the limit, the request's log is admitted and a reservation taken; at the limit, the
/// account's strategy decides — `stop_inserting`: the request is forwarded and only its usage is stored;
/// `reject`: 429 before the provider is called; `delete_oldest`: admitted, and the account's oldest logs of the
/// month are deleted after indexing to stay at the limit. Every reservation ends once: the ingest service turns it
/// into a stored log after the commit that indexed it (`committed`), or gives it back (`release`) when the log was
/// dropped. So with any number of concurrent requests, stored logs never exceed the limit and reach it exactly.
///
/// Counts survive restarts: the stored count of each month is the catalog's `log_counts`, written in the same
/// transaction as the index rows (no double counting after a crash), and read back when the quota opens.
public final class LogQuota: Sendable {
    public enum Admission: Sendable, Equatable {
        /// Store the log; a reservation was taken.
        case store
        /// Quota used up (`stop_inserting`): forward, store the usage only.
        case usageOnly
        /// Quota used up (`reject`): refuse with 429.
        case reject
    }

    struct Counter {
        var monthStart: Int64
        var stored: Int64
        var reserved: Int64 = 0
        /// Highest threshold (0, 80, 100 %) already logged this month.
        var announced = 0
    }

    struct State {
        var accounts: [String: Account] = [:]
        var counters: [String: Counter] = [:]
        /// Requests refused (429) since the process started, by account: what `/metrics` reports.
        var refused: [String: Int64] = [:]
    }

    private let state: Mutex<State>
    private let catalog: Catalog
    private let logger: Logger
    let now: @Sendable () -> Int64

    public init(
        catalog: Catalog, logger: Logger,
        now: @escaping @Sendable () -> Int64 = TollgateClock.system.wallMilliseconds
    ) throws {
        self.catalog = catalog
        self.logger = logger
        self.now = now
        let month = UTCMonth.start(of: now())
        var initial = State()
        for account in try catalog.accounts() {
            initial.accounts[account.id] = account
            let stored = try catalog.storedLogs(account: account.id, monthStart: month)
            var counter = Counter(monthStart: month, stored: stored)
            // Thresholds crossed before this start were announced then.
            counter.announced = Self.threshold(stored, account.monthlyLogLimit)
            initial.counters[account.id] = counter
        }
        state = Mutex(initial)
    }

    /// The decision for a request of `account` starting now. `.store` takes a reservation, which the caller must
    /// end with `committed` or `release`.
    public func admit(account: String) -> Admission {
        let time = now()
        return state.withLock { s in
            guard let settings = s.accounts[account] else { return .store }  // unknown here: not limited
            // The counter changed where the dictionary holds it: one lookup, not one to read and one to write back.
            let admission = Self.admit(
                &s.counters[account, default: Self.current(nil, at: time)], at: time,
                limit: settings.monthlyLogLimit, strategy: settings.logManagementStrategy)
            if admission == .reject { s.refused[account, default: 0] += 1 }
            return admission
        }
    }

    /// `admit` on an account's counter (started again when `time` is in a new month: `current`).
    private static func admit(
        _ counter: inout Counter, at time: Int64, limit: Int64, strategy: Account.LogManagementStrategy
    ) -> Admission {
        counter = current(counter, at: time)
        if counter.stored + counter.reserved < limit || strategy == .deleteOldest {
            counter.reserved += 1
            return .store
        }
        return strategy == .reject ? .reject : .usageOnly
    }

    /// Requests refused for a used-up quota (`reject`) since the process started, by account.
    public var refusedRequests: [String: Int64] { state.withLock { $0.refused } }

    /// Logs admitted at `admitted` (Unix ms of the request start) that are now durable and indexed.
    public func committed(account: String, admitted: Int64, count: Int64) {
        guard count > 0 else { return }
        let announcement: (Int, Int64, Int64)? = state.withLock { s in
            guard var counter = s.counters[account], counter.monthStart == UTCMonth.start(of: admitted) else {
                return nil  // a reservation of a month that has ended: that month's count is in the catalog
            }
            counter.reserved = max(0, counter.reserved - count)
            counter.stored += count
            var crossed: (Int, Int64, Int64)?
            if let limit = s.accounts[account]?.monthlyLogLimit {
                let level = Self.threshold(counter.stored, limit)
                if level > counter.announced {
                    counter.announced = level
                    crossed = (level, counter.stored, limit)
                }
            }
            s.counters[account] = counter
            return crossed
        }
        if let (level, stored, limit) = announcement {
            logger.warning(
                "log quota \(level == 100 ? "reached" : "at 80 %")",
                metadata: ["account": "\(account)", "stored": "\(stored)", "limit": "\(limit)"])
        }
    }

    /// Gives back reservations whose logs were not stored (dropped on a full queue, or failed to append).
    public func release(account: String, admitted: Int64, count: Int64 = 1) {
        state.withLock { s in
            guard var counter = s.counters[account], counter.monthStart == UTCMonth.start(of: admitted) else { return }
            counter.reserved = max(0, counter.reserved - count)
            s.counters[account] = counter
        }
    }

    /// Logs over the limit this month for an account whose strategy is `delete_oldest` (0 for others): the ingest
    /// service deletes that many of the month's oldest logs after a commit.
    public func excess(account: String) -> Int64 {
        let time = now()
        return state.withLock { s in
            guard let settings = s.accounts[account], settings.logManagementStrategy == .deleteOldest else { return 0 }
            let counter = Self.current(s.counters[account], at: time)
            return max(0, counter.stored - settings.monthlyLogLimit)
        }
    }

    /// Reads the month's stored count back from the catalog after logs were deleted (the API, retention): deleted
    /// logs free their quota. A commit landing between the read and the update may be counted twice until the next
    /// refresh — an over-count, so the limit still holds.
    public func refresh(account: String) throws {
        let month = UTCMonth.start(of: now())
        let stored = try catalog.storedLogs(account: account, monthStart: month)
        state.withLock { s in
            var counter = Self.current(s.counters[account], at: now())
            counter.stored = stored
            s.counters[account] = counter
        }
    }

    /// `refresh` for every account.
    public func refreshAll() throws {
        for account in state.withLock({ Array($0.accounts.keys) }) { try refresh(account: account) }
    }

    /// New or changed account settings, in force at once.
    public func update(_ account: Account) {
        state.withLock { s in
            s.accounts[account.id] = account
            if s.counters[account.id] == nil {
                s.counters[account.id] = Counter(monthStart: UTCMonth.start(of: now()), stored: 0)
            }
        }
    }

    /// The quota state of an account for the API.
    public struct Usage: Sendable, Equatable {
        public var account: Account
        public var monthStart: Int64
        public var used: Int64
        public var pending: Int64
    }

    public func usage(of account: Account) -> Usage {
        let time = now()
        return state.withLock { s in
            let counter = Self.current(s.counters[account.id], at: time)
            return Usage(
                account: account, monthStart: counter.monthStart, used: counter.stored, pending: counter.reserved)
        }
    }

    /// The counter for the month of `time`: a new month starts from zero (its logs are all still to come).
    static func current(_ counter: Counter?, at time: Int64) -> Counter {
        let month = UTCMonth.start(of: time)
        guard let counter, counter.monthStart == month else { return Counter(monthStart: month, stored: 0) }
        return counter
    }

    static func threshold(_ stored: Int64, _ limit: Int64) -> Int {
        guard limit > 0 else { return 100 }
        if stored >= limit { return 100 }
        if stored * 10 >= limit * 8 { return 80 }
        return 0
    }
}
