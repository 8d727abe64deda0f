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

    public init(
        id: LogID, createdAt: Int64, gateway: String, provider: String, model: String?, method: String, path: String,
        statusCode: Int, success: Bool, stream: Bool, durationMicros: Int64, ttftMicros: Int64?, usage: Usage,
        cost: Int64?, customCost: Bool, error: String?
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
    }
}
