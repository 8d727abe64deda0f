import Foundation

/// The bucket size of a usage query's rows, aligned in the query's time zone.
public enum UsageInterval: String, Sendable, Hashable, CaseIterable {
    case minute, hour, day, month
}

/// A field usage rows can be grouped by; fields not grouped by are added up.
public enum UsageGroupField: String, Sendable, Hashable, CaseIterable {
    case gateway, provider, model, success, priced, cached
}

/// Which measures a query computes. Counts (requests, errors, cached, unpriced) are always there; percentiles cost
/// the most, so they are computed only when asked for.
public struct UsageMeasures: OptionSet, Sendable, Hashable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// tokens_in, tokens_out, cached_tokens_in, cache_write_tokens, reasoning_tokens.
    public static let tokens = UsageMeasures(rawValue: 1)
    /// Cost of the priced requests, and what the cached ones saved.
    public static let cost = UsageMeasures(rawValue: 2)
    /// Latency (duration) percentiles.
    public static let latency = UsageMeasures(rawValue: 4)
    /// Time-to-first-token percentiles.
    public static let ttft = UsageMeasures(rawValue: 8)
    public static let all: UsageMeasures = [.tokens, .cost, .latency, .ttft]
}

/// Usage of one account over `[from, to)`, in buckets of `interval` aligned in `timeZone`, per group.
public struct UsageQuery: Sendable, Hashable {
    public var account: String
    /// Unix ms, inclusive; a whole minute.
    public var from: Int64
    /// Unix ms, exclusive; a whole minute.
    public var to: Int64
    public var interval: UsageInterval
    public var groupBy: Set<UsageGroupField>
    /// Where days and months (and hours, for zones with half-hour offsets) begin.
    public var timeZone: TimeZone
    public var measures: UsageMeasures

    public init(
        account: String, from: Int64, to: Int64, interval: UsageInterval, groupBy: Set<UsageGroupField> = [],
        timeZone: TimeZone = TimeZone(identifier: "UTC")!, measures: UsageMeasures = .all
    ) {
        self.account = account
        self.from = from
        self.to = to
        self.interval = interval
        self.groupBy = groupBy
        self.timeZone = timeZone
        self.measures = measures
    }
}

/// The values of the grouped-by fields of a row; nil for fields not grouped by. Model "" = none named.
public struct UsageGroup: Sendable, Hashable, Comparable {
    public var gateway: String?
    public var provider: String?
    public var model: String?
    public var success: Bool?
    public var priced: Bool?
    public var cached: Bool?

    public init(
        gateway: String? = nil, provider: String? = nil, model: String? = nil, success: Bool? = nil,
        priced: Bool? = nil, cached: Bool? = nil
    ) {
        self.gateway = gateway
        self.provider = provider
        self.model = model
        self.success = success
        self.priced = priced
        self.cached = cached
    }

    init(_ key: RollupSeriesKey, fields: Set<UsageGroupField>) {
        gateway = fields.contains(.gateway) ? key.gateway : nil
        provider = fields.contains(.provider) ? key.provider : nil
        model = fields.contains(.model) ? key.model : nil
        success = fields.contains(.success) ? key.success : nil
        priced = fields.contains(.priced) ? key.priced : nil
        cached = fields.contains(.cached) ? key.cached : nil
    }

    public static func < (a: UsageGroup, b: UsageGroup) -> Bool {
        func bit(_ v: Bool?) -> Int { v.map { $0 ? 2 : 1 } ?? 0 }
        // Field by field, as the tuple (gateway, provider, model, success, priced, cached) with nil as "" and
        // nil < false < true would compare, without building the tuples (a query sorts its groups).
        func text(_ x: String?, _ y: String?) -> Bool? {
            let (x, y) = (x ?? "", y ?? "")
            return x == y ? nil : x < y
        }
        func flag(_ x: Bool?, _ y: Bool?) -> Bool? { bit(x) == bit(y) ? nil : bit(x) < bit(y) }
        return text(a.gateway, b.gateway) ?? text(a.provider, b.provider) ?? text(a.model, b.model)
            ?? flag(a.success, b.success) ?? flag(a.priced, b.priced) ?? flag(a.cached, b.cached) ?? false
    }
}

/// Added-up measures of a bucket, a group or a whole range.
public struct UsageValues: Sendable, Hashable {
    public var requests: Int64 = 0
    /// Requests with success false.
    public var errors: Int64 = 0
    /// Requests served from the gateway's response cache.
    public var cached: Int64 = 0
    /// Requests the gateway refused over a rate limit (status 429, no provider called, cost 0).
    public var rateLimited: Int64 = 0
    /// Requests the gateway refused over a spend limit (status 429, no provider called, cost 0).
    public var spendLimited: Int64 = 0
    /// Requests without a cost.
    public var unpriced: Int64 = 0
    public var tokensIn: Int64 = 0
    public var tokensOut: Int64 = 0
    public var cachedTokensIn: Int64 = 0
    public var cacheWriteTokens: Int64 = 0
    public var reasoningTokens: Int64 = 0
    /// Cost of the priced requests, exact.
    public var cost = Money.zero
    /// What the cached requests would have cost, exact.
    public var saved = Money.zero
    /// Duration percentiles (µs); nil when not asked for or no requests.
    public var latency: Percentiles?
    /// Time-to-first-token percentiles (µs) of the requests that had one.
    public var ttft: Percentiles?

    public init() {}
}

/// One bucket of one group.
public struct UsageRow: Sendable, Hashable {
    /// The bucket's start in Unix ms, aligned in the query's zone (it may precede `from`; the data is clipped to
    /// `[from, to)`).
    public var bucketStart: Int64
    public var group: UsageGroup
    public var values: UsageValues
}

/// The answer to a `UsageQuery`: rows (buckets without requests left out) in bucket then group order, the totals
/// of each group and of everything. Counts, tokens and cost of the rows add up exactly to the totals.
public struct UsageResult: Sendable {
    public var rows: [UsageRow]
    /// One row per group over the whole range (`bucketStart` = the first bucket's start).
    public var groupTotals: [UsageRow]
    public var totals: UsageValues
    /// Chunk parts read per stored level, for the rows and the totals together (counted on the `bucket` column;
    /// each measure read reads as many).
    public var chunksRead: [RollupLevel: Int]
}
