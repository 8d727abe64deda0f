import TollgateModel

/// A log record's row in the catalog's log index: every field of the record except the headers and bodies, and
/// where the full record lives in the segment store.
///
/// Made with the memberwise initializer the compiler writes (no initializer in this declaration; the others are in
/// extensions): an initializer written out here left a copy of the whole entry at its end (every text retained and
/// released again), one per usage record on the store's thread.
public struct LogIndexEntry: Sendable, Equatable {
    public var id: LogID
    /// Request start, Unix milliseconds; equals `id.milliseconds` for ids made at the request start.
    public var createdAt: Int64
    public var account: String
    public var gateway: String
    public var provider: String
    public var model: String?
    public var method: String
    public var path: String
    public var statusCode: Int
    public var success: Bool
    public var stream: Bool
    public var durationMicros: Int64
    public var ttftMicros: Int64?
    public var usage = Usage()
    public var requestSize: Int64
    public var responseSize: Int64
    public var error: String?
    public var metadata: [MetadataEntry] = []
    public var payloadStored = true
    /// Picodollars (10⁻¹² USD); nil when the request is unpriced (unknown model, or tokens not reported).
    public var cost: Int64?
    /// True when the request carried its own price (`cf-aig-custom-cost`).
    public var customCost = false
    public var location: RecordLocation
    /// `cf-aig-event-id` when it is not this log's own id (see `LogRecord.eventID`).
    public var eventID: String?
    /// 1-based attempt of its event.
    public var attempt = 1
    /// The universal endpoint's step, nil for a provider path request.
    public var step: Int?
    /// Answered from the gateway's response cache: `cost` is 0 and `saved` what it would have cost.
    public var cached = false
    /// Picodollars a cached answer saved (the request priced as if a provider had answered); nil when not cached
    /// or unpriced.
    public var saved: Int64?
    /// The refusal of a usage record the gateway refused (never indexed as a log; counted in the rollups).
    public var refusal: GatewayRefusal?
    /// Human feedback patched onto the log (`log_annotations`); nil when none.
    public var annotation: LogAnnotation?

    /// The event id this log answers to: `eventID`, or its own id when it started its event.
    public var effectiveEventID: String { eventID ?? id.description }

    /// The metadata the API shows and filters on: the annotation's when it has some, else the request's.
    public var shownMetadata: [MetadataEntry] { annotation?.metadata ?? metadata }
}

extension LogIndexEntry {
    /// The index entry of `record`, stored at `location`. `price` is what its usage costs as the store's observer
    /// priced it (`LogStoreObserver.price(of:)`); what the request is charged follows from it: a request answered
    /// from the cache costs 0 and saved that price, a refused one costs 0, any other costs its price.
    public init(_ record: borrowing LogRecord, location: RecordLocation, price: Int64? = nil) {
        self = withUnsafePointer(to: record) { LogIndexEntry($0, location: location, price: price) }
    }

    /// The index entry of the record `record` points to: its fields read where it lies (the store's records lie in
    /// their batch), each on its own, as passing the whole record on would copy it first.
    init(_ record: UnsafePointer<LogRecord>, location: RecordLocation, price: Int64? = nil) {
        let charged = Self.charges(of: record.pointee, price: price)
        self.init(
            id: record.pointee.id, createdAt: record.pointee.createdAt, account: record.pointee.account,
            gateway: record.pointee.gateway,
            provider: record.pointee.provider, model: record.pointee.model, method: record.pointee.method,
            path: record.pointee.path,
            statusCode: record.pointee.statusCode, success: record.pointee.success, stream: record.pointee.stream,
            durationMicros: record.pointee.durationMicros, ttftMicros: record.pointee.ttftMicros,
            usage: record.pointee.usage,
            requestSize: record.pointee.requestSize, responseSize: record.pointee.responseSize,
            error: record.pointee.error,
            metadata: record.pointee.metadata, payloadStored: record.pointee.payloadStored, cost: charged.cost,
            customCost: record.pointee.customCost != nil, location: location, eventID: record.pointee.eventID,
            attempt: record.pointee.attempt, step: record.pointee.step, cached: record.pointee.cached,
            saved: charged.saved, refusal: record.pointee.refusal
        )
    }

    /// What a record priced at `price` costs its account and saved it: a request answered from the cache or refused
    /// by the gateway costs 0 (no provider was called), and a cached answer saved its price.
    @inline(__always)
    static func charges(of record: LogRecord, price: Int64?) -> (cost: Int64?, saved: Int64?) {
        charges(cached: record.cached, refused: record.refusal != nil, price: price)
    }

    /// `charges(of:price:)` of a record that was answered from the cache (`cached`) or refused by the gateway
    /// (`refused`), or neither.
    @inlinable
    public static func charges(cached: Bool, refused: Bool, price: Int64?) -> (cost: Int64?, saved: Int64?) {
        (cached || refused ? 0 : price, cached && !refused ? price : nil)
    }
}

/// What a `PATCH …/logs/{id}` set on a log, as Cloudflare AI Gateway's human feedback: kept beside the immutable
/// segments, keyed by the log, and deleted with it.
public struct LogAnnotation: Sendable, Equatable {
    /// -1 (negative) or 1 (positive); nil = not evaluated.
    public var feedback: Int?
    /// 0…100; nil = none.
    public var score: Int?
    /// Replaces the request's metadata in what the API shows and filters on; nil = the request's own.
    public var metadata: [MetadataEntry]?

    public init(feedback: Int? = nil, score: Int? = nil, metadata: [MetadataEntry]? = nil) {
        self.feedback = feedback
        self.score = score
        self.metadata = metadata
    }

    /// Nothing set: the log has no annotation.
    public var isEmpty: Bool { feedback == nil && score == nil && metadata == nil }
}

extension LogIndexEntry {
    /// The log's record without what only its payload part holds (headers, bodies, metadata entries, a custom
    /// cost's value): the metadata part a version 4 segment's read completes (`SegmentReader.read(_:metadata:)`).
    var metadataRecord: LogRecord {
        var record = LogRecord(
            id: id, createdAt: createdAt, account: account, gateway: gateway, provider: provider, model: model,
            path: path, method: method, statusCode: statusCode, success: success, stream: stream,
            durationMicros: durationMicros, ttftMicros: ttftMicros, usage: usage, requestSize: requestSize,
            responseSize: responseSize, error: error, payloadStored: payloadStored, logged: true, eventID: eventID,
            attempt: attempt)
        record.step = step
        record.cached = cached
        record.refusal = refusal
        return record
    }
}
