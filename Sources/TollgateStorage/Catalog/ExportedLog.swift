import TollgateModel

/// A log's metadata as `tollgate export` writes it (no headers, no bodies).
public struct ExportedLog: Sendable {
    public var id: LogID
    public var createdAt: Int64
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
    /// Picodollars; nil = unpriced.
    public var cost: Int64?
    /// The cost came from the request's custom-cost header.
    public var customCost: Bool
    public var error: String?
    /// The event's id: `cf-aig-event-id`, or the log's own id when it started its event.
    public var eventID: String
    public var attempt: Int
    public var step: Int?
    /// Answered from the gateway's cache (cost 0).
    public var cached: Bool
    /// Picodollars a cached answer saved; nil when not cached or unpriced.
    public var saved: Int64?
    /// The log's annotation (`PATCH …/logs/{id}`): feedback -1 or 1, score 0…100.
    public var feedback: Int?
    public var score: Int?

    public init(
        id: LogID, createdAt: Int64, gateway: String, provider: String, model: String?, method: String, path: String,
        statusCode: Int, success: Bool, stream: Bool, durationMicros: Int64, ttftMicros: Int64?, usage: Usage,
        cost: Int64?, customCost: Bool, error: String?, eventID: String? = nil, attempt: Int = 1, step: Int? = nil,
        cached: Bool = false, saved: Int64? = nil, feedback: Int? = nil, score: Int? = nil
    ) {
        self.id = id
        self.createdAt = createdAt
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
        self.cost = cost
        self.customCost = customCost
        self.error = error
        self.eventID = eventID ?? id.description
        self.attempt = attempt
        self.step = step
        self.cached = cached
        self.saved = saved
        self.feedback = feedback
        self.score = score
    }
}
