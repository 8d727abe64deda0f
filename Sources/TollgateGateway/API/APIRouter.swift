import Hummingbird

/// The REST API under `/api/v1`, every route behind a bearer token (the admin token, or an account token on its own
/// account's logs, usage, reports and quota: see `APIAccess`), every error as JSON.
public enum APIRouter {
    public static func make(api: APIServices, adminToken: String) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.get("healthz") { _, _ in
            json {
                $0.beginObject(); $0.key("status"); $0.string("ok"); $0.endObject()
            }
        }
        let v1 = router.group("api/v1").add(
            middleware: BearerAuthMiddleware(adminToken: adminToken, tokens: api.directory.tokens))
        AccountRoutes(api: api).register(on: v1)
        LogRoutes(api: api).register(on: v1)
        PriceRoutes(api: api).register(on: v1)
        UsageRoutes(api: api).register(on: v1)
        QuotaRoutes(api: api).register(on: v1)
        TokenRoutes(api: api).register(on: v1)
        CompactionRoutes(api: api).register(on: v1)
        v1.get("ingest") { _, _ in
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
