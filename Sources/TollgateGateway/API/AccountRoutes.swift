import Hummingbird
import TollgateModel
import TollgateStorage

/// `/api/v1/accounts`: create, list, get (changes are `QuotaRoutes`' `PATCH`).
struct AccountRoutes<Context: RequestContext> {
    let api: APIServices

    func register(on group: RouterGroup<Context>) {
        group.on(.createAccount, prefix: Route.apiPrefix) { _, _, input in try await createAccount(input) }
        group.on(.listAccounts, prefix: Route.apiPrefix) { _, _, _ in try await listAccounts() }
        group.on(.getAccount, prefix: Route.apiPrefix) { _, context, _ in try await getAccount(context) }
    }

    private func createAccount(_ input: RouteInput) async throws -> Response {
        let id = input.body.text("id")!
        let tier = input.body.text("tier") ?? "free"
        let account = try await api.blocking { try api.catalog.createAccount(id: id, tier: tier) }
        api.quota.update(account)
        return json(status: .created) { $0.account(account) }
    }

    private func listAccounts() async throws -> Response {
        let accounts = try await api.blocking { try api.catalog.accounts() }
        return jsonList("accounts", accounts) { $0.account($1) }
    }

    private func getAccount(_ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        return json { $0.account(account) }
    }
}

extension Route {
    static let createAccount = Route(
        .post, "/api/v1/accounts", "Creates an account: 201 with the account.",
        body: [
            Field("id", .identifier, "the account's id", required: true),
            Field(
                "tier", .choice(["free", "paid"]),
                "`free` (100,000 logs a month, the default) or `paid` (1,000,000)"),
        ])
    static let listAccounts = Route(.get, "/api/v1/accounts", "Every account.")
    static let getAccount = Route(
        .get, "/api/v1/accounts/{account}", "One account: tier, log limit, log strategy, retention.")
}

extension JSONWriter {
    mutating func account(_ account: Account) {
        beginObject()
        key("id"); string(account.id)
        key("tier"); string(account.tier.rawValue)
        key("log_limit"); int(account.monthlyLogLimit)
        key("log_management_strategy"); string(account.logManagementStrategy.rawValue)
        key("retention_days"); int(account.effectiveRetentionDays)
        key("created_at"); string(RFC3339.format(milliseconds: account.createdAt))
        endObject()
    }
}
