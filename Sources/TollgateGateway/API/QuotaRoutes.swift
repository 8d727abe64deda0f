import Hummingbird
import TollgateModel
import TollgateStorage

/// `PATCH /api/v1/accounts/{account}` (plan and log settings, in force at once) and
/// `GET /api/v1/accounts/{account}/quota` (the month's log quota).
struct QuotaRoutes<Context: RequestContext> {
    let api: APIServices

    func register(on group: RouterGroup<Context>) {
        group.on(.updateAccount, prefix: Route.apiPrefix) { _, context, input in try await patch(input, context) }
        group.on(.quota, prefix: Route.apiPrefix) { _, context, _ in try await quota(context) }
    }

    private func patch(_ input: RouteInput, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let body = input.body
        let tier = body.text("tier").flatMap(Account.Tier.init(rawValue:))
        let strategy = body.text("log_management_strategy").flatMap(Account.LogManagementStrategy.init(rawValue:))
        let logLimit = body.integerSetting("log_limit")
        let retention = body.integerSetting("retention_days").map { $0.map { Int($0) } }
        let updated = try await api.blocking {
            try api.catalog.updateAccount(
                account.id, tier: tier, logLimit: logLimit, strategy: strategy, retentionDays: retention)
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

extension Route {
    static let updateAccount = Route(
        .patch, "/api/v1/accounts/{account}",
        "Changes the account's plan and log settings the body names, in force for the next request; answers the account.",
        body: [
            Field("tier", .choice(Account.Tier.allCases.map(\.rawValue)), "`free` or `paid`"),
            Field(
                "log_limit", .integer(0...1_000_000_000_000),
                "logs stored a month; null: the tier's (100,000 or 1,000,000)", nullable: true),
            Field(
                "log_management_strategy", .choice(Account.LogManagementStrategy.allCases.map(\.rawValue)),
                "what happens at the limit"),
            Field(
                "retention_days", .integer(1...36_500), "days logs are kept; null: the tier's (30 or 90)",
                nullable: true),
        ])
    static let quota = Route(
        .get, "/api/v1/accounts/{account}/quota",
        "The month's log quota: `tier`, `period`, `limit`, `used`, `remaining`, `strategy`, `resets_at`.")
}
