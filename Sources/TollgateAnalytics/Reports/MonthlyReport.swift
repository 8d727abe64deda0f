import Foundation
import TollgateModel
import TollgateStorage

/// The monthly cost report of an account: what it spent in a UTC calendar month, per gateway, provider and model,
/// answered from the rollups (no log is read).
///
/// - `lines`: the priced requests of each (gateway, provider, model), with their exact cost.
/// - `unpriced`: the requests of each (gateway, provider, model) without a cost (unknown model, or tokens not
///   reported), with their tokens; their cost is null, never $0.
/// - `totals`: every request of the month, priced or not; `totals.cost` is the exact sum of the lines' costs.
/// - `cachedRequests` and `savedCost` (per line and in total): requests answered from the gateway's response cache,
///   which cost 0, and what they would have cost; `rateLimited` and `spendLimited`: requests the gateway refused
///   (429) over a rate limit or a spend limit, which cost 0 and are counted in `requests`.
/// - `previousMonth`: the month before's cost and the change in percent (null when it cost nothing).
/// - `logQuota`: the account's monthly log limit and the logs it stored this month. Logs and billing are apart: a
///   request whose log was not stored still counts here.
/// - A line of a model the provider retired before the month ended carries the retirement date (`retired`), so a
///   report shows which spend went to models that are no longer served; the line stays priced by the model's rows.
public struct MonthlyReport: Sendable, Equatable {
    public struct Line: Sendable, Equatable {
        public var gateway: String
        public var provider: String
        public var model: String
        public var requests: Int64
        public var tokensIn: Int64
        public var tokensOut: Int64
        public var cachedTokensIn: Int64
        public var cacheWriteTokens: Int64
        /// Nil on unpriced lines.
        public var cost: Money?
        /// Unix ms of the model's retirement, when it came before the end of the month; else nil.
        public var retired: Int64? = nil
        public var cachedRequests: Int64 = 0
        /// What the cached requests would have cost.
        public var savedCost = Money.zero
        public var rateLimited: Int64 = 0
        public var spendLimited: Int64 = 0
    }

    public struct Totals: Sendable, Equatable {
        public var requests: Int64 = 0
        public var tokensIn: Int64 = 0
        public var tokensOut: Int64 = 0
        public var cost = Money.zero
        public var cachedRequests: Int64 = 0
        public var savedCost = Money.zero
        public var rateLimited: Int64 = 0
        public var spendLimited: Int64 = 0
    }

    public var account: String
    /// `YYYY-MM`.
    public var month: String
    public var lines: [Line]
    public var unpriced: [Line]
    public var totals: Totals
    public var previousMonthCost: Money
    /// (this month − previous) ÷ previous × 100, rounded to two decimals; nil when the previous month cost nothing.
    public var changePercent: Double?
    public var logLimit: Int64
    public var logsStored: Int64

    /// Builds the report of `account` for the UTC month starting at `monthStart` (Unix ms). `retirement` gives a
    /// model's retirement date (Unix ms) from the price table (`PriceBook.retirement`).
    public static func make(
        account: Account, monthStart: Int64, rollups: RollupEngine, catalog: Catalog,
        retirement: (_ provider: String, _ model: String) -> Int64? = { _, _ in nil }
    ) throws -> MonthlyReport {
        let utc = TimeZone(identifier: "UTC")!
        let monthEnd = UTCMonth.next(after: monthStart)
        let result = try rollups.usage(
            UsageQuery(
                account: account.id, from: monthStart, to: monthEnd, interval: .month,
                groupBy: [.gateway, .provider, .model, .priced], timeZone: utc, measures: [.tokens, .cost]))
        var lines: [Line] = []
        var unpriced: [Line] = []
        var totals = Totals()
        for row in result.groupTotals {
            let v = row.values
            guard v.requests > 0 else { continue }
            let priced = row.group.priced ?? true
            var line = Line(
                gateway: row.group.gateway ?? "", provider: row.group.provider ?? "", model: row.group.model ?? "",
                requests: v.requests, tokensIn: v.tokensIn, tokensOut: v.tokensOut, cachedTokensIn: v.cachedTokensIn,
                cacheWriteTokens: v.cacheWriteTokens, cost: priced ? v.cost : nil, cachedRequests: v.cached,
                savedCost: v.saved, rateLimited: v.rateLimited, spendLimited: v.spendLimited)
            if let retired = retirement(line.provider, line.model), retired < monthEnd { line.retired = retired }
            if priced { lines.append(line) } else { unpriced.append(line) }
            totals.requests += v.requests
            totals.tokensIn += v.tokensIn
            totals.tokensOut += v.tokensOut
            if priced { totals.cost += v.cost }
            totals.cachedRequests += v.cached
            totals.savedCost += v.saved
            totals.rateLimited += v.rateLimited
            totals.spendLimited += v.spendLimited
        }
        let order: (Line, Line) -> Bool = { ($0.gateway, $0.provider, $0.model) < ($1.gateway, $1.provider, $1.model) }
        lines.sort(by: order)
        unpriced.sort(by: order)

        let previousStart = UTCMonth.previous(before: monthStart)
        let previous = try rollups.usage(
            UsageQuery(
                account: account.id, from: previousStart, to: monthStart, interval: .month, timeZone: utc,
                measures: [.cost]))
        let previousCost = previous.totals.cost
        var change: Double?
        if previousCost.picodollars != 0 {
            let ratio = Double(totals.cost.picodollars - previousCost.picodollars) / Double(previousCost.picodollars)
            change = (ratio * 10_000).rounded() / 100
        }
        return MonthlyReport(
            account: account.id, month: UTCMonth.name(monthStart), lines: lines, unpriced: unpriced, totals: totals,
            previousMonthCost: previousCost, changePercent: change,
            logLimit: account.monthlyLogLimit,
            logsStored: try catalog.storedLogs(account: account.id, monthStart: monthStart))
    }
}

// MARK: Rendering

extension MonthlyReport {
    /// The report as JSON (money as exact JSON numbers in USD).
    public func json() -> String {
        func line(_ l: Line) -> String {
            """
            {"gateway":\(JSONText.quoted(l.gateway)),"provider":\(JSONText.quoted(l.provider)),\
            "model":\(JSONText.quoted(l.model)),"requests":\(l.requests),"tokens_in":\(l.tokensIn),\
            "tokens_out":\(l.tokensOut),"cached_tokens_in":\(l.cachedTokensIn),\
            "cache_write_tokens":\(l.cacheWriteTokens),"retired":\(Self.day(l.retired).map(JSONText.quoted) ?? "null"),\
            "cost":\(l.cost?.usd ?? "null"),"cached_requests":\(l.cachedRequests),"saved_cost":\(l.savedCost.usd),\
            "rate_limited":\(l.rateLimited),"spend_limited":\(l.spendLimited)}
            """
        }
        let change = changePercent.map { Self.percent($0) } ?? "null"
        return """
            {"account":\(JSONText.quoted(account)),"month":"\(month)",\
            "lines":[\(lines.map(line).joined(separator: ","))],\
            "unpriced":[\(unpriced.map(line).joined(separator: ","))],\
            "totals":{"requests":\(totals.requests),"tokens_in":\(totals.tokensIn),"tokens_out":\(totals.tokensOut),\
            "cost":\(totals.cost.usd),"cached_requests":\(totals.cachedRequests),"saved_cost":\(totals.savedCost.usd),\
            "rate_limited":\(totals.rateLimited),"spend_limited":\(totals.spendLimited)},\
            "previous_month":{"cost":\(previousMonthCost.usd),"change_pct":\(change)},\
            "log_quota":{"limit":\(logLimit),"used":\(logsStored)}}
            """
    }

    /// The report as CSV (RFC 4180, CRLF): a header row, one row per line (`status` priced or unpriced; an
    /// unpriced row's cost is empty; `retired` the model's retirement date when it came before the month ended;
    /// cache hits, what they saved and refused requests last), then a totals row. Money at full precision, as plain
    /// decimals.
    public func csv() -> String {
        var out = CSV.row([
            "month", "gateway", "provider", "model", "status", "requests", "tokens_in", "tokens_out",
            "cached_tokens_in",
            "cache_write_tokens", "retired", "cost_usd", "cached_requests", "saved_cost_usd", "rate_limited",
            "spend_limited",
        ])
        for (l, status) in lines.map({ ($0, "priced") }) + unpriced.map({ ($0, "unpriced") }) {
            out += CSV.row([
                month, l.gateway, l.provider, l.model, status, "\(l.requests)", "\(l.tokensIn)", "\(l.tokensOut)",
                "\(l.cachedTokensIn)", "\(l.cacheWriteTokens)", Self.day(l.retired) ?? "", l.cost?.usd ?? "",
                "\(l.cachedRequests)", l.savedCost.usd, "\(l.rateLimited)", "\(l.spendLimited)",
            ])
        }
        out += CSV.row([
            month, "", "", "", "total", "\(totals.requests)", "\(totals.tokensIn)", "\(totals.tokensOut)",
            "\((lines + unpriced).reduce(0) { $0 + $1.cachedTokensIn })",
            "\((lines + unpriced).reduce(0) { $0 + $1.cacheWriteTokens })", "", totals.cost.usd,
            "\(totals.cachedRequests)", totals.savedCost.usd, "\(totals.rateLimited)", "\(totals.spendLimited)",
        ])
        return out
    }

    /// The report as a Markdown document for people.
    public func markdown() -> String {
        var out = "# Cost report: \(account), \(month)\n\n"
        out += "Total: **$\(totals.cost.usd)** for \(totals.requests) requests "
        out += "(\(totals.tokensIn) tokens in, \(totals.tokensOut) out)."
        out += " Previous month: $\(previousMonthCost.usd)"
        out += changePercent.map { " (\($0 >= 0 ? "+" : "")\(Self.percent($0)) %)." } ?? "."
        out += "\nCache hits: \(totals.cachedRequests), saving $\(totals.savedCost.usd)."
        out += " Refused: \(totals.rateLimited) over a rate limit, \(totals.spendLimited) over a spend limit."
        out += "\nLogs stored: \(logsStored) of \(logLimit).\n\n"
        out +=
            "| gateway | provider | model | requests | tokens in | tokens out | cached in | cache writes | cost (USD) "
            + "| cache hits | saved (USD) | rate limited | spend limited |\n"
        out += "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        for l in lines {
            let model = l.model + (Self.day(l.retired).map { " (retired \($0))" } ?? "")
            out += "| \(l.gateway) | \(l.provider) | \(model) | \(l.requests) | \(l.tokensIn) | \(l.tokensOut) | "
            out += "\(l.cachedTokensIn) | \(l.cacheWriteTokens) | \(l.cost?.usd ?? "") | \(l.cachedRequests) | "
            out += "\(l.savedCost.usd) | \(l.rateLimited) | \(l.spendLimited) |\n"
        }
        if !unpriced.isEmpty {
            out += "\nUnpriced (no price for the model, or tokens not reported):\n\n"
            out += "| gateway | provider | model | requests | tokens in | tokens out |\n|---|---|---|---:|---:|---:|\n"
            for l in unpriced {
                out +=
                    "| \(l.gateway) | \(l.provider) | \(l.model) | \(l.requests) | \(l.tokensIn) | \(l.tokensOut) |\n"
            }
        }
        return out
    }

    /// A Unix-ms instant as its UTC day, `YYYY-MM-DD`.
    static func day(_ milliseconds: Int64?) -> String? {
        milliseconds.map { String(RFC3339.format(milliseconds: $0).prefix(10)) }
    }

    static func percent(_ value: Double) -> String {
        String(format: "%.2f", value)
    }
}
