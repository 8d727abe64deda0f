import TollgateModel
import TollgateStorage

/// The controls the proxy applies to a gateway's requests, read once from its stored settings (when the gateway is
/// loaded or changed), so the hot path reads typed values only.
public struct GatewayPolicy: Sendable, Hashable {
    /// Seconds a response is cached; nil: no caching.
    public var cacheTTL: Int?
    public var rateLimit: RateLimit?
    public var retry: RetryPolicy
    /// Milliseconds to the first response byte; nil: none.
    public var requestTimeout: Int?
    public var spendLimits: SpendLimits?

    public static let none = GatewayPolicy(cacheTTL: nil, rateLimit: nil, retry: .none)

    public init(
        cacheTTL: Int? = nil, rateLimit: RateLimit? = nil, retry: RetryPolicy = .none, requestTimeout: Int? = nil,
        spendLimits: SpendLimits? = nil
    ) {
        self.cacheTTL = cacheTTL
        self.rateLimit = rateLimit
        self.retry = retry
        self.requestTimeout = requestTimeout
        self.spendLimits = spendLimits
    }

    /// The policy of stored settings. The API checked them when they were written; a value that no longer reads
    /// (a setting written by a later version) leaves its control off rather than guessing.
    public init(_ controls: GatewayControls) {
        cacheTTL = controls.cacheTTL.flatMap { $0 > 0 ? $0 : nil }
        if let limit = controls.rateLimitingLimit, let interval = controls.rateLimitingInterval, limit >= 1,
            (1...RateLimit.maximumInterval).contains(interval),
            let technique = BudgetWindow.Technique(rawValue: controls.rateLimitingTechnique ?? "fixed"),
            let key = RateLimit.Key(settingValue: controls.rateLimitingKey)
        {
            rateLimit = RateLimit(limit: limit, interval: interval, technique: technique, key: key)
        }
        retry = RetryPolicy(
            maxAttempts: min(max(controls.retryMaxAttempts ?? 1, 1), RetryPolicy.maximumAttempts),
            delay: min(max(controls.retryDelay ?? 0, 0), RetryPolicy.maximumDelay),
            backoff: controls.retryBackoff.flatMap(RetryPolicy.Backoff.init(rawValue:)) ?? .constant)
        requestTimeout = controls.requestTimeout.flatMap { $0 > 0 ? $0 : nil }
        if let text = controls.spendLimits, let json = try? JSONParser.parse(text) {
            spendLimits = try? SpendLimits(json: json)
        }
    }
}
