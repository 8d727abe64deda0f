import Hummingbird
import TollgateModel
import TollgateStorage

/// `PATCH /api/v1/accounts/{account}` (plan and log settings, in force at once) and
/// `GET /api/v1/accounts/{account}/quota` (the month's log quota).
struct QuotaRoutes<Context: RequestContext> {
    let api: APIServices

    func register(on group: RouterGroup<Context>) {
        group.patch("accounts/:account") { request, context in try await patch(request, context) }
        group.get("accounts/:account/quota") { _, context in try await quota(context) }
    }

    private func patch(_ request: Request, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let body = try await JSONBody(request, context)
        let known: Set = ["tier", "log_limit", "log_management_strategy", "retention_days"]
        if let unknown = body.object.keys.sorted().first(where: { !known.contains($0) }) {
            throw APIError.badParameter(unknown, "unknown field; expected \(known.sorted().joined(separator: ", "))")
        }
        var tier: Account.Tier?
        if body.object["tier"] != nil {
            tier = Account.Tier(rawValue: try body.string("tier", default: "", allowed: ["free", "paid"]))
        }
        var strategy: Account.LogManagementStrategy?
        if body.object["log_management_strategy"] != nil {
            let names = Account.LogManagementStrategy.allCases.map(\.rawValue)
            strategy = Account.LogManagementStrategy(
                rawValue: try body.string("log_management_strategy", default: "", allowed: names))
        }
        let logLimit = try body.optionalCount("log_limit", minimum: 0)
        let retention = try body.optionalCount("retention_days", minimum: 1).map { $0.map { Int($0) } }
        let (newTier, newStrategy) = (tier, strategy)
        let updated = try await api.blocking {
            try api.catalog.updateAccount(
                account.id, tier: newTier, logLimit: logLimit, strategy: newStrategy, retentionDays: retention)
        }
        api.quota.update(updated)
        return json { $0.account(updated) }
    }

    private func quota(_ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let usage = api.quota.usage(of: account)
        let limit = account.monthlyLogLimit
        return json {
            $0.beginObject()
            $0.key("account"); $0.string(account.id)
            $0.key("tier"); $0.string(account.tier.rawValue)
            $0.key("period"); $0.string(UTCMonth.name(usage.monthStart))
            $0.key("limit"); $0.int(limit)
            $0.key("used"); $0.int(usage.used)
            $0.key("remaining"); $0.int(max(0, limit - usage.used))
            $0.key("strategy"); $0.string(account.logManagementStrategy.rawValue)
            $0.key("resets_at"); $0.string(RFC3339.format(milliseconds: UTCMonth.next(after: usage.monthStart)))
            $0.endObject()
        }
    }
}

extension JSONBody {
    /// A field that may be absent (nil), null (`.some(nil)`: back to the default) or a whole number ≥ `minimum`.
    func optionalCount(_ name: String, minimum: Int64) throws -> Int64?? {
        guard let raw = object[name] else { return nil }
        if raw == .null { return .some(nil) }
        guard let value = raw.intValue, Int64(value) >= minimum else {
            throw APIError.badParameter(name, "expected a whole number of at least \(minimum), or null for the default")
        }
        return .some(Int64(value))
    }
}
