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
    }

    public var id: String
    public var tier: Tier
    /// Unix milliseconds.
    public var createdAt: Int64
    /// Most logs kept; nil means the tier's default.
    public var logLimit: Int64?
    public var logManagementStrategy: LogManagementStrategy
    /// Logs older than this many days are deleted; nil keeps them until the log limit applies.
    public var retentionDays: Int?

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
