import TollgateModel

/// Retention: how long an account's logs are kept.
public enum Retention {
    /// Days a log is kept when neither its account nor its gateway sets `retention_days`.
    public static func defaultDays(_ tier: Account.Tier) -> Int {
        switch tier {
        case .free: 30
        case .paid: 90
        }
    }

    static let dayMillis: Int64 = 86_400_000
}

extension LogStore {
    /// Deletes from the index every log past its retention at `now` (Unix ms): a gateway's `retention_days`, else
    /// its account's, else the tier's default (`Retention.defaultDays`). Only `account` when given; `days`
    /// replaces every setting when given. Deleted logs leave the listing at once and their content leaves the
    /// segments at the next compaction; their usage stays. Returns how many logs were deleted.
    @discardableResult
    public func applyRetention(
        now: Int64, account only: String? = nil, days override: Int? = nil, progress: (Int) -> Void = { _ in }
    ) throws -> Int {
        let accounts = try catalog.accounts().filter { only == nil || $0.id == only }
        var deleted = 0
        for account in accounts {
            let accountDays = override ?? account.retentionDays ?? Retention.defaultDays(account.tier)
            let gateways = try catalog.gateways(account: account.id)
            var queries: [LogQuery] = []
            if override != nil || gateways.allSatisfy({ $0.retentionDays == nil }) {
                queries = [LogQuery(account: account.id, to: now - Int64(accountDays) * Retention.dayMillis)]
            } else {
                queries = gateways.map {
                    LogQuery(
                        account: account.id, gateway: $0.id,
                        to: now - Int64($0.retentionDays ?? accountDays) * Retention.dayMillis)
                }
            }
            for query in queries {
                let base = deleted
                deleted += try catalog.deleteLogs(matching: query) { progress(base + $0) }
            }
        }
        return deleted
    }
}
