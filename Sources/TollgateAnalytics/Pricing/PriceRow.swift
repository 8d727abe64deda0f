/// One row of the price table: a model's rates from a date on, for one service tier.
///
/// Rates are picodollars per token (`Money` per token), parsed exactly from the USD-per-1M-token figures of the
/// provider's price list. A nil rate means "not billed apart": cache reads then cost the input rate, reasoning
/// tokens the output rate, and a request whose prompt passes `promptThreshold` pays the `above` rates for every
/// one of its tokens.
public struct PriceRow: Sendable, Equatable {
    public struct Rates: Sendable, Equatable {
        public var input: Money
        public var output: Money
        public var cachedInput: Money?
        /// Cache writes reported without a TTL (OpenAI's prompt-cache writes, part of the prompt).
        public var cacheWrite: Money?
        /// Anthropic cache writes with the 5-minute TTL (and writes reported without the TTL split).
        public var cacheWrite5m: Money?
        /// Anthropic cache writes with the 1-hour TTL.
        public var cacheWrite1h: Money?
        public var reasoning: Money?

        public init(
            input: Money, output: Money, cachedInput: Money? = nil, cacheWrite: Money? = nil,
            cacheWrite5m: Money? = nil, cacheWrite1h: Money? = nil, reasoning: Money? = nil
        ) {
            self.input = input
            self.output = output
            self.cachedInput = cachedInput
            self.cacheWrite = cacheWrite
            self.cacheWrite5m = cacheWrite5m
            self.cacheWrite1h = cacheWrite1h
            self.reasoning = reasoning
        }
    }

    public var provider: String
    public var model: String
    /// `default`, or a tier the provider reports and prices apart (OpenAI `flex`, `priority`).
    public var serviceTier: String
    /// Unix milliseconds from which the row applies.
    public var effectiveFrom: Int64
    public var rates: Rates
    /// Prompt length (input + cache reads + cache writes) above which `ratesAbove` apply to the whole request.
    public var promptThreshold: Int64?
    public var ratesAbove: Rates?
    /// Batch API rates (a request whose record reports the `batch` service tier is priced by them).
    public var batchInput: Money?
    public var batchOutput: Money?
    public var batchCachedInput: Money?
    public var batchInputAbove: Money?
    public var batchOutputAbove: Money?
    public var batchCachedInputAbove: Money?
    /// A fee per request (picodollars per request), recorded from the price list. Records do not yet report the
    /// events such fees are charged for (a search, a tool call), so it is not part of a request's cost.
    public var requestFee: Money?
    /// Unix ms from which the provider no longer serves the model; nil while it is served.
    public var retired: Int64?
    /// Where the figures come from.
    public var source: String
    /// The day the source was read, `YYYY-MM-DD` ("" when not given).
    public var retrieved: String

    public init(
        provider: String, model: String, serviceTier: String = "default", effectiveFrom: Int64, rates: Rates,
        promptThreshold: Int64? = nil, ratesAbove: Rates? = nil, batchInput: Money? = nil, batchOutput: Money? = nil,
        batchCachedInput: Money? = nil, batchInputAbove: Money? = nil, batchOutputAbove: Money? = nil,
        batchCachedInputAbove: Money? = nil, requestFee: Money? = nil, retired: Int64? = nil, source: String = "",
        retrieved: String = ""
    ) {
        self.provider = provider
        self.model = model
        self.serviceTier = serviceTier
        self.effectiveFrom = effectiveFrom
        self.rates = rates
        self.promptThreshold = promptThreshold
        self.ratesAbove = ratesAbove
        self.batchInput = batchInput
        self.batchOutput = batchOutput
        self.batchCachedInput = batchCachedInput
        self.batchInputAbove = batchInputAbove
        self.batchOutputAbove = batchOutputAbove
        self.batchCachedInputAbove = batchCachedInputAbove
        self.requestFee = requestFee
        self.retired = retired
        self.source = source
        self.retrieved = retrieved
    }

    /// The rates a Batch API request pays, in the band of its prompt: the row's batch prices, with cache reads
    /// at the batch cached-input rate. Nil when the row has no batch price for that band.
    public func batchRates(above: Bool) -> Rates? {
        withUnsafePointer(to: self) { Self.batchRates(of: $0, above: above) }
    }

    /// `batchRates(above:)` of the row `row` points to, read where it lies.
    static func batchRates(of row: UnsafePointer<PriceRow>, above: Bool) -> Rates? {
        if above {
            guard let input = row.pointee.batchInputAbove, let output = row.pointee.batchOutputAbove else { return nil }
            return Rates(input: input, output: output, cachedInput: row.pointee.batchCachedInputAbove)
        }
        guard let input = row.pointee.batchInput else { return nil }
        return Rates(input: input, output: row.pointee.batchOutput ?? .zero, cachedInput: row.pointee.batchCachedInput)
    }

    /// A per-token price from a USD-per-1M-tokens figure (`"0.15"`, `"3.75"`): exact for up to six decimals.
    public static func perToken(usdPerMillion text: some StringProtocol) -> Money? {
        // USD per 1M tokens with 6 decimals, scaled to picodollars per token: × 10¹² / 10⁶ = × 10⁶.
        Money.parseDecimal(text, scale: 6).map { Money(picodollars: $0) }
    }

    /// A per-request price from a USD-per-1,000-requests figure (`"5"` → $0.005 a request): exact for up to nine
    /// decimals.
    public static func perRequest(usdPerThousand text: some StringProtocol) -> Money? {
        // USD per 1K requests with 9 decimals, scaled to picodollars per request: × 10¹² / 10³ = × 10⁹.
        Money.parseDecimal(text, scale: 9).map { Money(picodollars: $0) }
    }
}
