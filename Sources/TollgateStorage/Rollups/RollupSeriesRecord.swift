/// One series of the rollups' dictionary: its id and the fields every request of the series shares.
public struct RollupSeriesRecord: Sendable, Hashable {
    public var id: Int64
    public var account: String
    public var gateway: String
    public var provider: String
    public var model: String
    public var success: Bool
    public var cached: Bool
    public var priced: Bool
    /// `GatewayRefusal.rawValue` of requests the gateway refused; "" for the others.
    public var refusal: String

    public init(
        id: Int64, account: String, gateway: String, provider: String, model: String, success: Bool, cached: Bool,
        priced: Bool, refusal: String = ""
    ) {
        self.id = id
        self.account = account
        self.gateway = gateway
        self.provider = provider
        self.model = model
        self.success = success
        self.cached = cached
        self.priced = priced
        self.refusal = refusal
    }
}
