import Foundation
import Hummingbird
import TollgateAnalytics
import TollgateModel
import TollgateStorage

/// `GET /api/v1/accounts/{account}/usage` (usage over a range, bucketed and grouped, from the rollups) and
/// `GET /api/v1/accounts/{account}/reports/monthly` (the monthly cost report, JSON or CSV).
struct UsageRoutes<Context: RequestContext> {
    let api: APIServices

    func register(on group: RouterGroup<Context>) {
        group.on(.usage, prefix: Route.apiPrefix) { _, context, input in try await usage(input.query, context) }
        group.on(.monthlyReport, prefix: Route.apiPrefix) { _, context, input in
            try await monthly(input.query, context)
        }
    }

    static var groupFields: [String: UsageGroupField] {
        ["gateway": .gateway, "provider": .provider, "model": .model, "success": .success]
    }

    private func usage(_ parameters: RouteInput.Values, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let now = api.now()
        let minute: Int64 = 60_000
        // Stored buckets are whole minutes: `from` is floored and `to` ceiled to the minute.
        var to = parameters.instant("to") ?? now
        to = (to + minute - 1) / minute * minute
        var from = parameters.instant("from") ?? (to - 7 * 86_400_000)
        from = from / minute * minute
        guard from < to else { throw APIError.badParameter("from", "must be before to") }
        let interval = parameters.text("interval").flatMap(UsageInterval.init(rawValue:)) ?? .day
        let groupBy = Set((parameters.names("group_by") ?? []).compactMap { Self.groupFields[$0] })
        let zone = parameters.text("tz").flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!
        let query = UsageQuery(
            account: account.id, from: from, to: to, interval: interval, groupBy: groupBy, timeZone: zone)
        let result: UsageResult
        do {
            result = try await api.blocking { try api.ledger.rollups.usage(query) }
        } catch let error as UsageQueryError {
            switch error {
            case .tooManyBuckets: throw APIError.badParameter("interval", error.description)
            case .unsupportedTimeZone: throw APIError.badParameter("tz", error.description)
            case .emptyRange, .notMinuteAligned: throw APIError.badParameter("from", error.description)
            }
        }
        return json {
            $0.beginObject()
            $0.key("account"); $0.string(account.id)
            $0.key("from"); $0.string(RFC3339.format(milliseconds: from))
            $0.key("to"); $0.string(RFC3339.format(milliseconds: to))
            $0.key("interval"); $0.string(interval.rawValue)
            $0.key("tz"); $0.string(zone.identifier)
            $0.key("rows")
            $0.beginArray()
            for row in result.rows {
                $0.beginObject()
                $0.key("bucket"); $0.string(LocalTime.format(milliseconds: row.bucketStart, in: zone))
                $0.usageGroup(row.group)
                $0.usageValues(row.values)
                $0.endObject()
            }
            $0.endArray()
            $0.key("totals")
            $0.beginObject()
            $0.usageValues(result.totals)
            $0.endObject()
            $0.endObject()
        }
    }

    private func monthly(_ parameters: RouteInput.Values, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let monthStart = parameters.instant("month") ?? UTCMonth.start(of: api.now())
        let format = parameters.text("format") ?? "json"
        let report = try await api.blocking {
            try MonthlyReport.make(
                account: account, monthStart: monthStart, rollups: api.ledger.rollups, catalog: api.catalog,
                retirement: { api.ledger.prices.retirement(account: account.id, provider: $0, model: $1) })
        }
        if format == "csv" {
            return Response(
                status: .ok,
                headers: [
                    .contentType: "text/csv; charset=utf-8",
                    .contentDisposition: "attachment; filename=\"tollgate-\(account.id)-\(report.month).csv\"",
                ],
                body: .init(byteBuffer: ByteBuffer(string: report.csv())))
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: report.json())))
    }
}

/// RFC 3339 in a time zone's offset at that instant: `2026-11-01T00:00:00-04:00` (`Z` for UTC).
enum LocalTime {
    static func format(milliseconds: Int64, in zone: TimeZone) -> String {
        let offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
        guard offset != 0 else { return RFC3339.format(milliseconds: milliseconds) }
        var text = RFC3339.format(milliseconds: milliseconds + Int64(offset) * 1000)
        text.removeLast()  // "Z"
        let sign = offset < 0 ? "-" : "+"
        let minutes = abs(offset) / 60
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return text + sign + two(minutes / 60) + ":" + two(minutes % 60)
    }
}

extension Route {
    static let usage = Route(
        .get, "/api/v1/accounts/{account}/usage",
        "Usage over a range from the rollups: rows per bucket and group of requests, errors, cache hits and what they "
            + "saved, refused requests, tokens, cost, unpriced, latency and TTFT p50/p90/p95/p99, and totals.",
        query: [
            Field("from", .date, "start, floored to the minute (default `to` minus 7 days)"),
            Field("to", .date, "end, ceiled to the minute (default now)"),
            Field("interval", .choice(UsageInterval.allCases.map(\.rawValue)), "bucket size (default `day`)"),
            Field("group_by", .subset(["gateway", "provider", "model", "success"]), "split rows by these"),
            Field("tz", .timeZone, "time zone of the buckets (default UTC)"),
        ])
    static let monthlyReport = Route(
        .get, "/api/v1/accounts/{account}/reports/monthly",
        "The monthly cost report: lines per gateway, provider and model, unpriced lines, totals (with cache hits, "
            + "what they saved and refused requests), the previous month's cost, the log quota.",
        query: [
            Field("month", .month, "the UTC month (default the current one)"),
            Field("format", .choice(["json", "csv"]), "default `json`"),
        ])
}

extension JSONWriter {
    mutating func usageGroup(_ group: UsageGroup) {
        if let gateway = group.gateway { key("gateway"); string(gateway) }
        if let provider = group.provider { key("provider"); string(provider) }
        if let model = group.model { key("model"); string(model.isEmpty ? nil : model) }
        if let success = group.success { key("success"); bool(success) }
    }

    mutating func usageValues(_ v: UsageValues) {
        key("requests"); int(v.requests)
        key("errors"); int(v.errors)
        key("cached_requests"); int(v.cached)
        key("rate_limited"); int(v.rateLimited)
        key("spend_limited"); int(v.spendLimited)
        key("tokens_in"); int(v.tokensIn)
        key("tokens_out"); int(v.tokensOut)
        key("cached_tokens_in"); int(v.cachedTokensIn)
        key("cache_write_tokens"); int(v.cacheWriteTokens)
        key("reasoning_tokens"); int(v.reasoningTokens)
        key("cost"); usd(picodollars: v.cost.picodollars)
        key("saved_cost"); usd(picodollars: v.saved.picodollars)
        key("unpriced"); int(v.unpriced)
        key("latency_ms"); percentiles(v.latency)
        key("ttft_ms"); percentiles(v.ttft)
    }

    /// Percentiles in milliseconds (from microseconds), three decimals.
    mutating func percentiles(_ p: Percentiles?) {
        guard let p else { return null() }
        beginObject()
        for (name, value) in [("p50", p.p50), ("p90", p.p90), ("p95", p.p95), ("p99", p.p99)] {
            key(name); millis(fromMicros: Int64(value.rounded()))
        }
        endObject()
    }
}
