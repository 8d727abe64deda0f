import TollgateModel

/// A log record's row in the catalog's log index: every field of the record except the headers and bodies, and
/// where the full record lives in the segment store.
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
    public var usage: Usage
    public var requestSize: Int64
    public var responseSize: Int64
    public var error: String?
    public var metadata: [MetadataEntry]
    public var payloadStored: Bool
    /// Picodollars (10⁻¹² USD); nil when the request is unpriced (unknown model, or tokens not reported).
    public var cost: Int64?
    /// True when the request carried its own price (`cf-aig-custom-cost`).
    public var customCost: Bool
    public var location: RecordLocation

    public init(
        id: LogID, createdAt: Int64, account: String, gateway: String, provider: String, model: String?,
        method: String, path: String, statusCode: Int, success: Bool, stream: Bool, durationMicros: Int64,
        ttftMicros: Int64?, usage: Usage = Usage(), requestSize: Int64, responseSize: Int64, error: String? = nil,
        metadata: [MetadataEntry] = [], payloadStored: Bool = true, cost: Int64? = nil, customCost: Bool = false,
        location: RecordLocation
    ) {
        self.id = id
        self.createdAt = createdAt
        self.account = account
        self.gateway = gateway
        self.provider = provider
        self.model = model
        self.method = method
        self.path = path
        self.statusCode = statusCode
        self.success = success
        self.stream = stream
        self.durationMicros = durationMicros
        self.ttftMicros = ttftMicros
        self.usage = usage
        self.requestSize = requestSize
        self.responseSize = responseSize
        self.error = error
        self.metadata = metadata
        self.payloadStored = payloadStored
        self.cost = cost
        self.customCost = customCost
        self.location = location
    }

    /// The index entry of `record`, stored at `location`, with the cost the store's observer gave it.
    public init(_ record: LogRecord, location: RecordLocation, cost: Int64? = nil) {
        self.init(
            id: record.id, createdAt: record.createdAt, account: record.account, gateway: record.gateway,
            provider: record.provider, model: record.model, method: record.method, path: record.path,
            statusCode: record.statusCode, success: record.success, stream: record.stream,
            durationMicros: record.durationMicros, ttftMicros: record.ttftMicros, usage: record.usage,
            requestSize: record.requestSize, responseSize: record.responseSize, error: record.error,
            metadata: record.metadata, payloadStored: record.payloadStored, cost: cost,
            customCost: record.customCost != nil, location: location
        )
    }
}
