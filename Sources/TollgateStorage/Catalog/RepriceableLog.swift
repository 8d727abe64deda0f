import TollgateModel

/// A log as repricing reads it from the index: what its cost is computed from and what its rollups count.
public struct RepriceableLog: Sendable {
    public var id: LogID
    public var gateway: String
    public var provider: String
    public var model: String?
    public var createdAt: Int64
    public var statusCode: Int
    public var success: Bool
    public var durationMicros: Int64
    public var ttftMicros: Int64?
    public var usage: Usage
    /// Picodollars; nil = unpriced.
    public var cost: Int64?

    public init(
        id: LogID, gateway: String, provider: String, model: String?, createdAt: Int64, statusCode: Int,
        success: Bool, durationMicros: Int64, ttftMicros: Int64?, usage: Usage, cost: Int64?
    ) {
        self.id = id
        self.gateway = gateway
        self.provider = provider
        self.model = model
        self.createdAt = createdAt
        self.statusCode = statusCode
        self.success = success
        self.durationMicros = durationMicros
        self.ttftMicros = ttftMicros
        self.usage = usage
        self.cost = cost
    }
}
