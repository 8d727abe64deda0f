/// One row of the catalog's `prices` table, as stored: rates in picodollars per token (per request for
/// `requestFee`), nil where the row has none. Keyed by (account, provider, model, service tier, effective from);
/// account "" is the public list.
public struct PriceRecord: Sendable, Hashable {
    public var account: String
    public var provider: String
    public var model: String
    public var serviceTier: String
    public var effectiveFrom: Int64
    /// Required by the table, like `output`: a row without it is refused (`SQLiteError.constraint`).
    public var input: Int64?
    public var output: Int64?
    public var cachedInput: Int64?
    public var cacheWrite: Int64?
    public var cacheWrite5m: Int64?
    public var cacheWrite1h: Int64?
    public var reasoning: Int64?
    public var batchInput: Int64?
    public var batchOutput: Int64?
    public var batchCachedInput: Int64?
    public var promptThreshold: Int64?
    public var inputAbove: Int64?
    public var outputAbove: Int64?
    public var cachedInputAbove: Int64?
    public var cacheWriteAbove: Int64?
    public var cacheWrite5mAbove: Int64?
    public var cacheWrite1hAbove: Int64?
    public var batchInputAbove: Int64?
    public var batchOutputAbove: Int64?
    public var batchCachedInputAbove: Int64?
    public var requestFee: Int64?
    public var retired: Int64?
    public var source: String
    public var retrieved: String
    /// `shipped` (from the binary's price list) or `api`.
    public var origin: String
    /// When the row was written (Unix ms).
    public var updatedAt: Int64

    public init(
        account: String, provider: String, model: String, serviceTier: String, effectiveFrom: Int64,
        source: String = "", retrieved: String = "", origin: String = "api", updatedAt: Int64 = 0
    ) {
        self.account = account
        self.provider = provider
        self.model = model
        self.serviceTier = serviceTier
        self.effectiveFrom = effectiveFrom
        self.source = source
        self.retrieved = retrieved
        self.origin = origin
        self.updatedAt = updatedAt
    }
}
