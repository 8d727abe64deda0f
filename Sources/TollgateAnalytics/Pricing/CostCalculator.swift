import TollgateModel

/// The cost of one request's usage under one price row, exactly.
///
/// `Usage` is normalised across providers (see `TollgateModel.Usage`): `tokensIn` counts every input token, cache
/// reads (`cachedTokensIn`) and cache writes (`cacheWriteTokens`, of which `cacheWrite1hTokens` with the 1-hour
/// TTL) included; `tokensOut` counts every output token, reasoning included. So every token class is priced exactly
/// once, whatever the provider:
///
///     plain input  = tokensIn − cachedTokensIn − cacheWriteTokens      × input
///     cache reads  = cachedTokensIn                                      × cachedInput  (else input)
///     cache writes = (cacheWriteTokens − cacheWrite1hTokens)             × cacheWrite5m (else cacheWrite, input)
///                  + cacheWrite1hTokens                                  × cacheWrite1h (else the rate above)
///     output       = tokensOut − reasoningTokens                         × output
///     reasoning    = reasoningTokens                                     × reasoning    (else output)
///
/// `cacheWrite` is the rate of writes a provider reports without a TTL (OpenAI); a row carries either it or the
/// Anthropic TTL rates. When the prompt (`tokensIn`) is above the row's `promptThreshold`, the row's `ratesAbove`
/// price every token. A record whose service tier is `batch` pays the row's Batch rates (its cache writes at the
/// Batch input rate), when the row has them. Per-request fees are not part of the cost: no record reports the
/// events they are charged for. Unknown token counts (`tokensIn` or `tokensOut` nil) give no cost: the request is
/// unpriced, never $0.
public enum CostCalculator {
    public static func cost(of usage: Usage, under row: PriceRow) -> Money? {
        withUnsafePointer(to: row) { cost(of: usage, under: $0) }
    }

    /// The cost under the row `row` points to, read where it lies (a price table's row handed by value is copied
    /// first: each of its texts retained, then released).
    static func cost(of usage: Usage, under row: UnsafePointer<PriceRow>) -> Money? {
        guard let tokensIn = usage.tokensIn, let tokensOut = usage.tokensOut else { return nil }
        let above = row.pointee.promptThreshold.map { tokensIn > $0 } ?? false
        var rates = row.pointee.rates
        if above, let higher = row.pointee.ratesAbove { rates = higher }
        if usage.serviceTier == "batch",
            let batch = PriceRow.batchRates(of: row, above: above && row.pointee.ratesAbove != nil)
        {
            rates = batch
        }
        let cached = min(max(usage.cachedTokensIn ?? 0, 0), tokensIn)
        let writes = min(max(usage.cacheWriteTokens ?? 0, 0), tokensIn - cached)
        let writes1h = min(max(usage.cacheWrite1hTokens ?? 0, 0), writes)
        let plain = tokensIn - cached - writes
        let reasoning = min(max(usage.reasoningTokens ?? 0, 0), tokensOut)

        let cachedRate = rates.cachedInput ?? rates.input
        let writeRate = rates.cacheWrite5m ?? rates.cacheWrite ?? rates.input
        let write1hRate = rates.cacheWrite1h ?? writeRate
        let reasoningRate = rates.reasoning ?? rates.output

        var total = Money.zero
        total += times(plain, rates.input)
        total += times(cached, cachedRate)
        total += times(writes - writes1h, writeRate)
        total += times(writes1h, write1hRate)
        total += times(tokensOut - reasoning, rates.output)
        total += times(reasoning, reasoningRate)
        return total
    }

    private static func times(_ tokens: Int64, _ rate: Money) -> Money {
        Money(picodollars: Int128(tokens) * rate.picodollars)
    }
}
