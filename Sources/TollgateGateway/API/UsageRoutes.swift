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
        group.get("accounts/:account/usage") { request, context in try await usage(request, context) }
        group.get("accounts/:account/reports/monthly") { request, context in try await monthly(request, context) }
    }

    static var groupFields: [String: UsageGroupField] {
        ["gateway": .gateway, "provider": .provider, "model": .model, "success": .success]
    }

    private func usage(_ request: Request, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let parameters = QueryParameters(request)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let minute: Int64 = 60_000
        // Stored buckets are whole minutes: `from` is floored and `to` ceiled to the minute.
        var to = try parameters.date("to") ?? now
        to = (to + minute - 1) / minute * minute
        var from = try parameters.date("from") ?? (to - 7 * 86_400_000)
        from = from / minute * minute
        guard from < to else { throw APIError.badParameter("from", "must be before to") }
        let interval =
            try parameters.oneOf("interval", UsageInterval.allCases.map(\.rawValue)).flatMap(
                UsageInterval.init(rawValue:)) ?? .day
        var groupBy: Set<UsageGroupField> = []
        if let text = parameters.string("group_by") {
            let names = text.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            let unknown = names.filter { Self.groupFields[$0] == nil }
            guard unknown.isEmpty else {
                throw APIError.badParameter(
                    "group_by",
                    "unknown field(s) \(unknown.map { "'\($0)'" }.joined(separator: ", ")); "
                        + "expected a comma-separated subset of gateway, provider, model, success")
            }
            groupBy = Set(names.compactMap { Self.groupFields[$0] })
        }
        var zone = TimeZone(identifier: "UTC")!
        if let name = parameters.string("tz") {
            guard let named = TimeZone(identifier: name) else {
                throw APIError.badParameter(
                    "tz", "unknown time zone '\(name)'; expected an IANA name such as Europe/Paris")
            }
            zone = named
        }
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

    private func monthly(_ request: Request, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let parameters = QueryParameters(request)
        let monthStart: Int64
        if let text = parameters.string("month") {
            guard let start = UTCMonth.parse(text) else { throw APIError.badParameter("month", "expected YYYY-MM") }
            monthStart = start
        } else {
            monthStart = UTCMonth.start(of: Int64(Date().timeIntervalSince1970 * 1000))
        }
        let format = try parameters.oneOf("format", ["json", "csv"]) ?? "json"
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

extension QueryParameters {
    /// A date parameter: `YYYY-MM-DD` (midnight UTC) or an RFC 3339 timestamp.
    func date(_ name: String) throws -> Int64? {
        guard let text = string(name) else { return nil }
        guard let ms = PriceDate.parse(text) else {
            throw APIError.badParameter(
                name, "expected YYYY-MM-DD or an RFC 3339 timestamp such as 2026-11-25T13:00:00Z")
        }
        return ms
    }
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
        key("cached"); int(v.cached)
        key("tokens_in"); int(v.tokensIn)
        key("tokens_out"); int(v.tokensOut)
        key("cached_tokens_in"); int(v.cachedTokensIn)
        key("cache_write_tokens"); int(v.cacheWriteTokens)
        key("reasoning_tokens"); int(v.reasoningTokens)
        key("cost"); usd(picodollars: v.cost.picodollars)
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
