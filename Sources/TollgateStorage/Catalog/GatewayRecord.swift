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
    /// Cache, rate limit, retry, timeout and spend limit settings.
    public var controls = GatewayControls()

    public init(
        account: String, id: String, collectLogs: Bool = true, authentication: Bool = false,
        streamUsage: Bool = true, retentionDays: Int? = nil, createdAt: Int64, controls: GatewayControls = .init()
    ) {
        self.account = account
        self.id = id
        self.collectLogs = collectLogs
        self.authentication = authentication
        self.streamUsage = streamUsage
        self.retentionDays = retentionDays
        self.createdAt = createdAt
        self.controls = controls
    }
}

/// A gateway's traffic controls as the catalog stores them (`Schema/0010_gateway_controls.sql`): plain values,
/// checked by the API and read into the gateway's control types by the proxy. nil leaves a control off or at its
/// default.
public struct GatewayControls: Sendable, Hashable {
    /// Seconds; nil or 0: no caching.
    public var cacheTTL: Int?
    public var cacheInvalidateOnUpdate = false
    public var rateLimitingLimit: Int?
    /// Seconds.
    public var rateLimitingInterval: Int?
    /// `fixed` or `sliding`.
    public var rateLimitingTechnique: String?
    /// nil (the whole gateway), `token` or `metadata.<key>`.
    public var rateLimitingKey: String?
    public var retryMaxAttempts: Int?
    /// Milliseconds.
    public var retryDelay: Int?
    /// `constant`, `linear` or `exponential`.
    public var retryBackoff: String?
    /// Milliseconds to the first response byte.
    public var requestTimeout: Int?
    /// The rules as JSON.
    public var spendLimits: String?

    public init() {}
}
