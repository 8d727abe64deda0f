import TollgateModel
import TollgateStorage

/// One request as the rollups see it: the fields of a log record that are added up. A stored log's comes from its
/// index entry (`init(_:)`), whether the log is folded as it is written, replayed, discarded or repriced.
public struct RollupInput: Sendable, Hashable {
    public var account: String
    public var gateway: String
    public var provider: String
    /// nil when neither request nor response named one; rolled up as "".
    public var model: String?
    public var success: Bool
    /// Served from the gateway's response cache (its cost is 0, `saved` what it would have cost).
    public var cached: Bool
    /// Refused by the gateway before a provider was called (status 429, cost 0).
    public var refusal: GatewayRefusal?
    /// Request start, Unix ms.
    public var createdAt: Int64
    /// Token counts; nil = not reported, added as 0.
    public var tokensIn: Int64?
    public var tokensOut: Int64?
    public var cachedTokensIn: Int64?
    public var cacheWriteTokens: Int64?
    public var reasoningTokens: Int64?
    /// Cost in picodollars (10⁻¹² USD); nil = unpriced (no price known for the model).
    public var cost: Int64?
    /// Picodollars a cached answer saved; nil when not cached or unpriced.
    public var saved: Int64?
    /// Request start to the last byte, µs.
    public var durationMicros: Int64
    /// Request start to the first upstream body byte, µs; nil when none came.
    public var ttftMicros: Int64?

    public init(
        account: String, gateway: String, provider: String, model: String?, success: Bool, cached: Bool = false,
        createdAt: Int64, tokensIn: Int64? = nil, tokensOut: Int64? = nil, cachedTokensIn: Int64? = nil,
        cacheWriteTokens: Int64? = nil, reasoningTokens: Int64? = nil, cost: Int64? = nil, durationMicros: Int64,
        ttftMicros: Int64? = nil, saved: Int64? = nil, refusal: GatewayRefusal? = nil
    ) {
        self.account = account
        self.gateway = gateway
        self.provider = provider
        self.model = model
        self.success = success
        self.cached = cached
        self.createdAt = createdAt
        self.tokensIn = tokensIn
        self.tokensOut = tokensOut
        self.cachedTokensIn = cachedTokensIn
        self.cacheWriteTokens = cacheWriteTokens
        self.reasoningTokens = reasoningTokens
        self.cost = cost
        self.durationMicros = durationMicros
        self.ttftMicros = ttftMicros
        self.saved = saved
        self.refusal = refusal
    }

    /// The series the input is counted in.
    var seriesKey: RollupSeriesKey {
        RollupSeriesKey(
            account: account, gateway: gateway, provider: provider, model: model ?? "", success: success,
            cached: cached, priced: cost != nil, refusal: refusal?.rawValue ?? "")
    }

    /// Whether this input folds into the series `key` points to (`seriesKey == key.pointee`, without making the
    /// key), its fields read where they lie: a key passed by value was copied first, its five texts retained and
    /// released.
    func isOf(_ key: UnsafePointer<RollupSeriesKey>) -> Bool {
        success == key.pointee.success && cached == key.pointee.cached && (cost != nil) == key.pointee.priced
            && (refusal?.rawValue ?? "") == key.pointee.refusal && (model ?? "") == key.pointee.model
            && provider == key.pointee.provider && gateway == key.pointee.gateway && account == key.pointee.account
    }
}

extension RollupInput {
    /// A stored log as the rollups count it.
    init(_ entry: borrowing LogIndexEntry) {
        self.init(
            account: entry.account, gateway: entry.gateway, provider: entry.provider, model: entry.model,
            success: entry.success, cached: entry.cached, createdAt: entry.createdAt, tokensIn: entry.usage.tokensIn,
            tokensOut: entry.usage.tokensOut, cachedTokensIn: entry.usage.cachedTokensIn,
            cacheWriteTokens: entry.usage.cacheWriteTokens, reasoningTokens: entry.usage.reasoningTokens,
            cost: entry.cost, durationMicros: entry.durationMicros, ttftMicros: entry.ttftMicros, saved: entry.saved,
            refusal: entry.refusal)
    }

    /// The record `record` points to, priced `price`, as the rollups count it once stored (charged as its index entry
    /// is: `LogIndexEntry.charges`). Read where it lies: the store hands its records to the observer by pointer.
    init(_ record: UnsafePointer<LogRecord>, price: Int64?) {
        let charged = LogIndexEntry.charges(
            cached: record.pointee.cached, refused: record.pointee.refusal != nil, price: price)
        self.init(
            account: record.pointee.account, gateway: record.pointee.gateway, provider: record.pointee.provider,
            model: record.pointee.model, success: record.pointee.success, cached: record.pointee.cached,
            createdAt: record.pointee.createdAt, tokensIn: record.pointee.usage.tokensIn,
            tokensOut: record.pointee.usage.tokensOut, cachedTokensIn: record.pointee.usage.cachedTokensIn,
            cacheWriteTokens: record.pointee.usage.cacheWriteTokens,
            reasoningTokens: record.pointee.usage.reasoningTokens,
            cost: charged.cost,
            durationMicros: record.pointee.durationMicros, ttftMicros: record.pointee.ttftMicros, saved: charged.saved,
            refusal: record.pointee.refusal)
    }
}

/// What a series of rollup buckets is kept for: every distinct value of these fields has its own measures. `priced`
/// is `cost != nil`, so priced and unpriced requests of one model are told apart in reports; `refusal` keeps the
/// requests the gateway refused apart (they are the usage's `rate_limited` and `spend_limited`).
public struct RollupSeriesKey: Sendable, Hashable {
    public var account: String
    public var gateway: String
    public var provider: String
    public var model: String
    public var success: Bool
    public var cached: Bool
    public var priced: Bool
    /// `GatewayRefusal.rawValue` for requests the gateway refused, "" for the others.
    public var refusal: String = ""
}

extension RollupSeriesKey {
    /// The key of a stored series.
    init(_ record: RollupSeriesRecord) {
        self.init(
            account: record.account, gateway: record.gateway, provider: record.provider, model: record.model,
            success: record.success, cached: record.cached, priced: record.priced, refusal: record.refusal)
    }

    /// The series as stored, with its id.
    func record(id: Int64) -> RollupSeriesRecord {
        RollupSeriesRecord(
            id: id, account: account, gateway: gateway, provider: provider, model: model, success: success,
            cached: cached, priced: priced, refusal: refusal)
    }
}

/// A position in the record store up to which every record has been folded and checkpointed: the segment and the
/// byte offset after the last record. Opaque to the rollups; compared only by the caller.
public struct RollupWatermark: Sendable, Hashable, Comparable {
    public var segment: UInt32
    public var offset: UInt64

    public init(segment: UInt32, offset: UInt64) {
        self.segment = segment
        self.offset = offset
    }

    public static func < (a: RollupWatermark, b: RollupWatermark) -> Bool {
        (a.segment, a.offset) < (b.segment, b.offset)
    }
}

/// Errors of the rollup engine's storage.
public enum RollupError: Error, Sendable, Equatable {
    /// A stored column could not be decoded.
    case corruptChunk(String)
}

/// Bad usage queries; each maps to a 400 response.
public enum UsageQueryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `from` is not before `to`.
    case emptyRange(from: Int64, to: Int64)
    /// `from` or `to` is not a whole UTC minute (the finest stored bucket).
    case notMinuteAligned(Int64)
    /// The range at this interval has more buckets than the query allows.
    case tooManyBuckets(count: Int, limit: Int)
    /// A bucket boundary of the time zone falls inside a minute (zones with second offsets, before 1900).
    case unsupportedTimeZone(String)

    public var description: String {
        switch self {
        case .emptyRange(let from, let to): "from (\(from)) must be before to (\(to))"
        case .notMinuteAligned(let value): "\(value) is not a whole minute in Unix ms"
        case .tooManyBuckets(let count, let limit):
            "the range has \(count) or more buckets at this interval, more than \(limit): use a coarser interval"
        case .unsupportedTimeZone(let name): "time zone \(name) has offsets that are not whole minutes"
        }
    }
}

/// The stored bucket sizes, all UTC-aligned. Every input is added to one bucket of each level.
public enum RollupLevel: Int, Sendable, Hashable, CaseIterable, Comparable {
    case minute = 0
    case hour = 1
    case day = 2
    case month = 3

    public static func < (a: RollupLevel, b: RollupLevel) -> Bool { a.rawValue < b.rawValue }

    /// The name stored in `rollup_chunks.level`.
    public var name: String {
        switch self {
        case .minute: "minute"
        case .hour: "hour"
        case .day: "day"
        case .month: "month"
        }
    }

    static let minuteMs: Int64 = 60_000
    static let hourMs: Int64 = 3_600_000
    static let dayMs: Int64 = 86_400_000

    /// The start of the bucket holding `t` (Unix ms).
    func bucketStart(_ t: Int64) -> Int64 {
        switch self {
        case .minute: UTCCalendar.floor(t, Self.minuteMs)
        case .hour: UTCCalendar.floor(t, Self.hourMs)
        case .day: UTCCalendar.floor(t, Self.dayMs)
        case .month: UTCCalendar.monthStart(t)
        }
    }

    /// The start of the bucket after the one starting at `start`.
    func nextBucket(_ start: Int64) -> Int64 {
        switch self {
        case .minute: start + Self.minuteMs
        case .hour: start + Self.hourMs
        case .day: start + Self.dayMs
        case .month: UTCCalendar.addMonths(start, 1)
        }
    }

    /// The start of the chunk holding `t`: an hour of minutes, a day of hours, a month of days, a year of months.
    func chunkStart(_ t: Int64) -> Int64 {
        switch self {
        case .minute: UTCCalendar.floor(t, Self.hourMs)
        case .hour: UTCCalendar.floor(t, Self.dayMs)
        case .day: UTCCalendar.monthStart(t)
        case .month: UTCCalendar.yearStart(t)
        }
    }

    /// The start of the chunk after the one starting at `start`.
    func nextChunk(_ start: Int64) -> Int64 {
        switch self {
        case .minute: start + Self.hourMs
        case .hour: start + Self.dayMs
        case .day: UTCCalendar.addMonths(start, 1)
        case .month: UTCCalendar.addMonths(start, 12)
        }
    }

    /// The start of bucket number `offset` of the chunk starting at `chunkStart`.
    func bucketStart(chunkStart: Int64, offset: Int) -> Int64 {
        switch self {
        case .minute: chunkStart + Int64(offset) * Self.minuteMs
        case .hour: chunkStart + Int64(offset) * Self.hourMs
        case .day: chunkStart + Int64(offset) * Self.dayMs
        case .month: UTCCalendar.addMonths(chunkStart, offset)
        }
    }
}

/// Proleptic Gregorian UTC arithmetic on Unix ms without Foundation (fold runs it four times per record).
enum UTCCalendar {
    @inline(__always)
    static func floor(_ t: Int64, _ unit: Int64) -> Int64 {
        let r = t % unit
        return r < 0 ? t - r - unit : t - r
    }

    /// (year, month 1…12, day 1…31) of a day count since 1970-01-01.
    @inline(__always)
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        RFC3339.civil(fromDays: days)
    }

    /// Days since 1970-01-01 of a civil date.
    @inline(__always)
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        RFC3339.days(fromCivil: year, month, day)
    }

    static func monthStart(_ t: Int64) -> Int64 {
        let c = civil(fromDays: floor(t, RollupLevel.dayMs) / RollupLevel.dayMs)
        return days(year: c.year, month: c.month, day: 1) * RollupLevel.dayMs
    }

    static func yearStart(_ t: Int64) -> Int64 {
        let c = civil(fromDays: floor(t, RollupLevel.dayMs) / RollupLevel.dayMs)
        return days(year: c.year, month: 1, day: 1) * RollupLevel.dayMs
    }

    /// The first instant of the month `count` months after the month starting at `monthStart`.
    static func addMonths(_ monthStart: Int64, _ count: Int) -> Int64 {
        let c = civil(fromDays: floor(monthStart, RollupLevel.dayMs) / RollupLevel.dayMs)
        let index = c.year * 12 + (c.month - 1) + Int64(count)
        let year = index >= 0 ? index / 12 : (index - 11) / 12
        return days(year: year, month: index - year * 12 + 1, day: 1) * RollupLevel.dayMs
    }
}
