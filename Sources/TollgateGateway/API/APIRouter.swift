import Hummingbird

/// The REST API under `/api/v1`, every route behind a bearer token (the admin token, or an account token on its own
/// account's logs, usage, reports and quota: see `APIAccess`), every error as JSON.
public enum APIRouter {
    public static func make(api: APIServices, adminToken: String) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.on(.healthz, prefix: "") { _, _, _ in
            json {
                $0.beginObject(); $0.key("status"); $0.string("ok"); $0.endObject()
            }
        }
        let v1 = router.group("api/v1").add(
            middleware: BearerAuthMiddleware(adminToken: adminToken, tokens: api.directory.tokens))
        AccountRoutes(api: api).register(on: v1)
        GatewayRoutes(api: api).register(on: v1)
        LogRoutes(api: api).register(on: v1)
        PriceRoutes(api: api).register(on: v1)
        UsageRoutes(api: api).register(on: v1)
        QuotaRoutes(api: api).register(on: v1)
        TokenRoutes(api: api).register(on: v1)
        CompactionRoutes(api: api).register(on: v1)
        v1.on(.ingest, prefix: Route.apiPrefix) { _, _, _ in
            let counters = api.ingest.counters
            let stored = api.store.statistics
            return json {
                $0.beginObject()
                $0.key("accepted"); $0.int(counters.accepted)
                $0.key("dropped"); $0.int(counters.dropped)
                $0.key("queued"); $0.int(counters.queued)
                $0.key("stored"); $0.int(stored.recordsAppended)
                $0.key("failed"); $0.int(stored.recordsFailed)
                $0.endObject()
            }
        }
        return router
    }
}

extension Route {
    /// The path every API route is under.
    static let apiPrefix = "/api/v1"

    static let healthz = Route(
        .get, "/healthz", "Liveness: `{\"status\":\"ok\"}` while the process serves. No token needed.")
    static let ingest = Route(
        .get, "/api/v1/ingest",
        "Ingest counters: `accepted`, `dropped`, `queued`, `stored`, `failed`.")

    /// Every route the API serves, in the order the documentation lists them. A test checks that the router
    /// registers exactly these.
    static let all: [Route] = [
        .healthz,
        .createAccount, .listAccounts, .getAccount, .updateAccount, .quota,
        .createGateway, .listGateways, .getGateway, .updateGateway,
        .createToken, .listTokens, .revokeToken,
        .listLogs, .getLog, .getLogRequest, .getLogResponse, .deleteLogs, .deleteLog,
        .usage, .monthlyReport,
        .listPrices, .addPrice, .deletePrice, .listAccountPrices, .addAccountPrice, .deleteAccountPrice, .reprice,
        .ingest, .compact,
    ]
}
