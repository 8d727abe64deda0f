import NIOHTTP1
import TollgateAnalytics
import TollgateModel

/// The controls' state shared by the proxy's event loops: rate limit budgets and spend ledgers, on one clock.
public final class TrafficControls: Sendable {
    public let rateLimiter: RateLimiter
    public let spend: SpendLedger
    let now: @Sendable () -> Int64

    /// - Parameter now: the clock, Unix milliseconds.
    public init(now: @escaping @Sendable () -> Int64 = TollgateClock.system.wallMilliseconds) {
        self.now = now
        rateLimiter = RateLimiter(now: now)
        spend = SpendLedger(now: now)
    }

    /// A request refused before anything is forwarded: 429 with this message and `Retry-After`.
    public struct Refusal: Sendable, Equatable {
        public var message: String
        /// Whole seconds until a request would pass (at least 1).
        public var retryAfterSeconds: Int
    }

    /// Counts a request against its gateway's rate limit; the refusal when the budget it falls in is used up.
    ///
    /// The budget is the gateway's, or per `cf-aig-authorization` token (by the token's SHA-256, never the token),
    /// or per value of a `cf-aig-metadata` key; requests without the token or the key share one budget.
    public func admit(
        _ limit: RateLimit, account: String, gateway: String, headers: HTTPHeaders, metadata: [MetadataEntry]
    ) -> Refusal? {
        let key: String
        switch limit.key {
        case .gateway:
            key = ""
        case .token:
            key =
                headers.first(name: GatewayHeader.authorization.name).map {
                    Hex.lowercase(TokenDirectory.hash(Array($0.utf8)))
                }
                ?? ""
        case .metadata(let name):
            key = metadata.first { $0.key == name }.map { "=" + $0.value.text } ?? ""
        }
        let decision = rateLimiter.admit(limit, .init(account: account, gateway: gateway, key: key))
        guard case .full(let retryAfter) = decision else { return nil }
        return Refusal(
            message: "gateway \(gateway) allows \(limit.limit) requests per \(limit.interval) s"
                + (key.isEmpty ? "" : " per \(limit.key.settingValue ?? "gateway")") + "; try again later",
            retryAfterSeconds: Int((retryAfter + 999) / 1000))
    }
}

extension TrafficControls {
    /// Checks a request against its gateway's spend limits before anything is forwarded; the refusal when a budget
    /// it falls in has no room.
    public func admit(
        _ limits: SpendLimits, account: String, gateway: String, provider: String, model: String?,
        metadata: [MetadataEntry]
    ) -> Refusal? {
        let request = SpendLimits.Request(provider: provider, model: model, metadata: Self.texts(metadata))
        guard let refusal = spend.admit(limits, account: account, gateway: gateway, request) else { return nil }
        let rule = limits.rules.first { $0.id == refusal.rule }
        return Refusal(
            message: "spend limit \(refusal.rule) of gateway \(gateway) reached"
                + (rule.map { ": $\($0.limit.usd) per \($0.window) s" } ?? "") + "; try again later",
            retryAfterSeconds: Int((refusal.retryAfterMilliseconds + 999) / 1000))
    }

    /// Counts the cost of recorded requests against their gateways' spend limits, as soon as the records are made
    /// (before they are stored: a request the provider billed counts even if its log is lost).
    /// `prices`: each record's price (picodollars, nil when unpriced); a cached or refused request costs nothing.
    public func recordSpend(_ records: [LogRecord], prices: [Int64?], directory: GatewayDirectory) {
        precondition(prices.count == records.count)
        // The gateway of the record before, looked up once for a run of records of one gateway (the directory read
        // as the batch began, as for its first record).
        var last: (account: String, gateway: String, limits: SpendLimits?)?
        for i in records.indices {
            guard !records[i].cached, records[i].refusal == nil, let cost = prices[i], cost > 0 else { continue }
            let limits: SpendLimits?
            if let last, last.account == records[i].account, last.gateway == records[i].gateway {
                limits = last.limits
            } else {
                limits = directory.lookup(account: records[i].account, gateway: records[i].gateway)?.policy.spendLimits
                last = (records[i].account, records[i].gateway, limits)
            }
            guard let limits else { continue }
            let record = records[i]
            spend.record(
                Money(picodollars: Int128(cost)), limits, account: record.account, gateway: record.gateway,
                SpendLimits.Request(
                    provider: record.provider, model: record.model ?? "", metadata: Self.texts(record.metadata)),
                at: record.createdAt)
        }
    }

    static func texts(_ metadata: [MetadataEntry]) -> [String: String] {
        var texts: [String: String] = [:]
        for entry in metadata { texts[entry.key] = entry.value.text }
        return texts
    }
}

extension MetadataEntry.Value {
    /// The value as text, for keeping budgets per value: numbers without a needless `.0`.
    var text: String {
        switch self {
        case .string(let text): text
        case .bool(let value): value ? "true" : "false"
        case .number(let value):
            value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        }
    }
}
