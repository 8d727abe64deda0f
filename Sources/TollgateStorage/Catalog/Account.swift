/// A tenant of the gateway, as the catalog stores it.
public struct Account: Sendable, Hashable {
    /// The account's plan.
    public enum Tier: String, Sendable, Hashable, CaseIterable {
        case free
        case paid
    }

    /// What happens when the account reaches its log limit.
    public enum LogManagementStrategy: String, Sendable, Hashable, CaseIterable {
        /// New logs are not stored (requests are still forwarded).
        case stopInserting = "stop_inserting"
        /// The oldest logs are deleted to make room.
        case deleteOldest = "delete_oldest"
        /// Requests are refused with 429 before reaching the provider.
        case reject
    }

    public var id: String
    public var tier: Tier
    /// Unix milliseconds.
    public var createdAt: Int64
    /// Most logs stored per calendar month (UTC); nil means the tier's default (`monthlyLogLimit`).
    public var logLimit: Int64?
    public var logManagementStrategy: LogManagementStrategy
    /// Logs older than this many days are deleted; nil means the tier's default (`effectiveRetentionDays`).
    public var retentionDays: Int?

    /// The monthly log limit in force: the account's own, else its tier's (free 100,000, paid 1,000,000).
    public var monthlyLogLimit: Int64 { logLimit ?? Self.defaultLogLimit(tier) }

    /// Days logs are kept: the account's own setting, else its tier's (free 30, paid 90).
    public var effectiveRetentionDays: Int { retentionDays ?? (tier == .paid ? 90 : 30) }

    public static func defaultLogLimit(_ tier: Tier) -> Int64 {
        tier == .paid ? 1_000_000 : 100_000
    }

    public init(
        id: String, tier: Tier, createdAt: Int64, logLimit: Int64? = nil,
        logManagementStrategy: LogManagementStrategy = .stopInserting, retentionDays: Int? = nil
    ) {
        self.id = id
        self.tier = tier
        self.createdAt = createdAt
        self.logLimit = logLimit
        self.logManagementStrategy = logManagementStrategy
        self.retentionDays = retentionDays
    }
}
