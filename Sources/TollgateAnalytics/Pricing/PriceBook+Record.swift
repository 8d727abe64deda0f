import TollgateStorage

extension PriceBook.Entry {
    /// The row as the catalog stores it: rates in whole picodollars. A rate that does not fit is stored as none (for
    /// input and output, which the table requires, the row is then refused).
    var record: PriceRecord {
        func rate(_ money: Money?) -> Int64? { money.flatMap { Int64(exactly: $0.picodollars) } }
        var r = PriceRecord(
            account: account, provider: row.provider, model: row.model, serviceTier: row.serviceTier,
            effectiveFrom: row.effectiveFrom, source: row.source, retrieved: row.retrieved, origin: origin,
            updatedAt: updatedAt)
        r.input = rate(row.rates.input)
        r.output = rate(row.rates.output)
        r.cachedInput = rate(row.rates.cachedInput)
        r.cacheWrite = rate(row.rates.cacheWrite)
        r.cacheWrite5m = rate(row.rates.cacheWrite5m)
        r.cacheWrite1h = rate(row.rates.cacheWrite1h)
        r.reasoning = rate(row.rates.reasoning)
        r.batchInput = rate(row.batchInput)
        r.batchOutput = rate(row.batchOutput)
        r.batchCachedInput = rate(row.batchCachedInput)
        r.promptThreshold = row.promptThreshold
        r.inputAbove = rate(row.ratesAbove?.input)
        r.outputAbove = rate(row.ratesAbove?.output)
        r.cachedInputAbove = rate(row.ratesAbove?.cachedInput)
        r.cacheWriteAbove = rate(row.ratesAbove?.cacheWrite)
        r.cacheWrite5mAbove = rate(row.ratesAbove?.cacheWrite5m)
        r.cacheWrite1hAbove = rate(row.ratesAbove?.cacheWrite1h)
        r.batchInputAbove = rate(row.batchInputAbove)
        r.batchOutputAbove = rate(row.batchOutputAbove)
        r.batchCachedInputAbove = rate(row.batchCachedInputAbove)
        r.requestFee = rate(row.requestFee)
        r.retired = row.retired
        return r
    }

    /// A row read from the catalog. Its rates above the prompt threshold are kept when it has both an input and an
    /// output rate there.
    init(_ r: PriceRecord) {
        func money(_ picodollars: Int64?) -> Money? { picodollars.map { Money(picodollars: Int128($0)) } }
        var above: PriceRow.Rates?
        if let input = money(r.inputAbove), let output = money(r.outputAbove) {
            above = PriceRow.Rates(
                input: input, output: output, cachedInput: money(r.cachedInputAbove),
                cacheWrite: money(r.cacheWriteAbove), cacheWrite5m: money(r.cacheWrite5mAbove),
                cacheWrite1h: money(r.cacheWrite1hAbove))
        }
        let row = PriceRow(
            provider: r.provider, model: r.model, serviceTier: r.serviceTier, effectiveFrom: r.effectiveFrom,
            rates: PriceRow.Rates(
                input: money(r.input) ?? .zero, output: money(r.output) ?? .zero, cachedInput: money(r.cachedInput),
                cacheWrite: money(r.cacheWrite), cacheWrite5m: money(r.cacheWrite5m),
                cacheWrite1h: money(r.cacheWrite1h), reasoning: money(r.reasoning)),
            promptThreshold: r.promptThreshold, ratesAbove: above, batchInput: money(r.batchInput),
            batchOutput: money(r.batchOutput), batchCachedInput: money(r.batchCachedInput),
            batchInputAbove: money(r.batchInputAbove), batchOutputAbove: money(r.batchOutputAbove),
            batchCachedInputAbove: money(r.batchCachedInputAbove), requestFee: money(r.requestFee),
            retired: r.retired, source: r.source, retrieved: r.retrieved)
        self.init(account: r.account, row: row, origin: r.origin, updatedAt: r.updatedAt)
    }
}
