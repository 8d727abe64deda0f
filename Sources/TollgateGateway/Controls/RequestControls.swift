import NIOHTTP1

/// The controls in force for one request: the gateway's settings, overridden by the request's own `cf-aig-*`
/// headers where it sends them (Cloudflare AI Gateway's names and ranges).
///
/// | header | takes | |
/// |---|---|---|
/// | `cf-aig-cache-ttl` | 60 … 2,592,000 s | how long what this request stores is served |
/// | `cf-aig-skip-cache` | `true` / `false` | neither served from nor stored in the cache |
/// | `cf-aig-cache-key` | 1 … 256 characters | the cache key, in place of the request's; turns caching on (300 s without a TTL) |
/// | `cf-aig-max-attempts` | 1 … 5 | attempts in all |
/// | `cf-aig-retry-delay` | 0 … 5000 ms | delay before the first retry |
/// | `cf-aig-backoff` | `constant`, `linear`, `exponential` | how the delay grows |
/// | `cf-aig-request-timeout` | 1 … 600,000 ms | time to the first response byte |
///
/// A header given with a value outside its range is refused (400 naming it) before anything is forwarded.
public struct RequestControls: Sendable, Equatable {
    /// Seconds a response this request stores is served; nil: this request does not use the cache.
    public var cacheTTL: Int?
    /// The client's own cache key (`cf-aig-cache-key`).
    public var cacheKey: String?
    public var retry: RetryPolicy
    /// Milliseconds to the first response byte; nil: none.
    public var requestTimeout: Int?

    public static let cacheTTLRange = 60...2_592_000
    /// The TTL of a request that names its cache key but no TTL, on a gateway without caching.
    public static let defaultKeyedTTL = 300
    public static let requestTimeoutRange = 1...600_000

    /// A header the request got wrong.
    public struct Failure: Error, Sendable, Equatable {
        public var header: String
        public var message: String

        /// `cf-aig-max-attempts: expected a whole number from 1 to 5`.
        public var description: String { "\(header): \(message)" }
    }

    /// The controls of a request that sends none of the headers above: the gateway's settings as they are (what
    /// `init(_:policy:)` gives for such a request, without looking for each header).
    public init(policy: GatewayPolicy) {
        cacheTTL = policy.cacheTTL
        cacheKey = nil
        retry = policy.retry
        requestTimeout = policy.requestTimeout
    }

    /// The controls of a request through a gateway with `policy`.
    public init(_ headers: HTTPHeaders, policy: GatewayPolicy) throws(Failure) {
        let skip = try Self.flag(headers, GatewayHeader.skipCache.name) ?? false
        let ttl = try Self.number(headers, GatewayHeader.cacheTTL.name, Self.cacheTTLRange)
        var key: String?
        if let value = try Self.single(headers, GatewayHeader.cacheKey.name) {
            guard (1...256).contains(value.utf8.count) else {
                throw Failure(header: GatewayHeader.cacheKey.name, message: "expected 1 to 256 characters")
            }
            key = value
        }
        if skip {
            cacheTTL = nil
            cacheKey = nil
        } else {
            cacheTTL = ttl ?? policy.cacheTTL ?? (key != nil ? Self.defaultKeyedTTL : nil)
            cacheKey = cacheTTL == nil ? nil : key
        }
        var retry = policy.retry
        if let attempts = try Self.number(headers, GatewayHeader.maxAttempts.name, 1...RetryPolicy.maximumAttempts) {
            retry.maxAttempts = attempts
        }
        if let delay = try Self.number(headers, GatewayHeader.retryDelay.name, 0...RetryPolicy.maximumDelay) {
            retry.delay = delay
        }
        if let name = try Self.single(headers, GatewayHeader.backoff.name) {
            guard let backoff = RetryPolicy.Backoff(rawValue: name) else {
                throw Failure(header: GatewayHeader.backoff.name, message: "expected constant, linear or exponential")
            }
            retry.backoff = backoff
        }
        self.retry = retry
        requestTimeout =
            try Self.number(headers, GatewayHeader.requestTimeout.name, Self.requestTimeoutRange)
            ?? policy.requestTimeout
    }

    private static func single(_ headers: HTTPHeaders, _ name: String) throws(Failure) -> String? {
        let values = headers[name]
        guard values.count <= 1 else { throw Failure(header: name, message: "given more than once") }
        guard let value = values.first else { return nil }
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(value.drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }

    private static func number(_ headers: HTTPHeaders, _ name: String, _ range: ClosedRange<Int>) throws(Failure)
        -> Int?
    {
        guard let text = try single(headers, name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw Failure(
                header: name, message: "expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    private static func flag(_ headers: HTTPHeaders, _ name: String) throws(Failure) -> Bool? {
        switch try single(headers, name)?.lowercased() {
        case nil: nil
        case "true": true
        case "false": false
        default: throw Failure(header: name, message: "expected true or false")
        }
    }
}
