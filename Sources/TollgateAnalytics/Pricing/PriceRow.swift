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
        public var cacheWrite5m: Money?
        public var cacheWrite1h: Money?
        public var reasoning: Money?

        public init(
            input: Money, output: Money, cachedInput: Money? = nil, cacheWrite5m: Money? = nil,
            cacheWrite1h: Money? = nil, reasoning: Money? = nil
        ) {
            self.input = input
            self.output = output
            self.cachedInput = cachedInput
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
    public var batchInput: Money?
    public var batchOutput: Money?
    /// Where the figures come from.
    public var source: String

    public init(
        provider: String, model: String, serviceTier: String = "default", effectiveFrom: Int64, rates: Rates,
        promptThreshold: Int64? = nil, ratesAbove: Rates? = nil, batchInput: Money? = nil, batchOutput: Money? = nil,
        source: String = ""
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
        self.source = source
    }

    /// A per-token price from a USD-per-1M-tokens figure (`"0.15"`, `"3.75"`): exact for up to six decimals.
    public static func perToken(usdPerMillion text: some StringProtocol) -> Money? {
        // USD per 1M tokens with 6 decimals, scaled to picodollars per token: × 10¹² / 10⁶ = × 10⁶.
        Money.parseDecimal(text, scale: 6).map { Money(picodollars: $0) }
    }
}
