/// A gateway of an account, as the catalog stores it.
public struct GatewayRecord: Sendable, Hashable {
    public var account: String
    public var id: String
    /// Whether requests through this gateway are logged.
    public var collectLogs: Bool
    /// Whether requests must carry a gateway token.
    public var authentication: Bool
    /// Whether OpenAI-style streaming requests get `stream_options.include_usage` added upstream (and the
    /// usage-only chunk removed from the client's stream), so their tokens are logged.
    public var streamUsage: Bool
    /// Overrides the account's retention for this gateway's logs; nil uses the account's.
    public var retentionDays: Int?
    /// Unix milliseconds.
    public var createdAt: Int64

    public init(
        account: String, id: String, collectLogs: Bool = true, authentication: Bool = false,
        streamUsage: Bool = true, retentionDays: Int? = nil, createdAt: Int64
    ) {
        self.account = account
        self.id = id
        self.collectLogs = collectLogs
        self.authentication = authentication
        self.streamUsage = streamUsage
        self.retentionDays = retentionDays
        self.createdAt = createdAt
    }
}
