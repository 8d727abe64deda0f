import Hummingbird
import NIOCore
import TollgateModel

/// The REST API under `/api/v1`, every route behind a bearer token (the admin token, or an account token on its own
/// account's logs, usage, reports and quota: see `APIAccess`), every error as JSON.
public enum APIRouter {
    /// The OpenAPI document, written once.
    static let openAPIDocumentText = openAPIDocument()

    public static func make(api: APIServices, adminToken: String) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware())
        router.on(.healthz, prefix: "") { _, _, _ in
            json {
                $0.beginObject(); $0.key("status"); $0.string("ok"); $0.endObject()
            }
        }
        // Readiness: 503 while the log store cannot write (a full disk), with why and since when. The proxy keeps
        // forwarding meanwhile; `healthz` stays liveness only.
        router.on(.readyz, prefix: "") { _, _, _ in
            let health = api.store.writeStatus.health
            return json(status: health.isHealthy ? .ok : .serviceUnavailable) {
                $0.beginObject()
                $0.key("status"); $0.string(health.isHealthy ? "ready" : "store_cannot_write")
                if let failure = health.failure {
                    $0.key("reason"); $0.string("\(failure.operation.rawValue): \(failure.reason)")
                    $0.key("since"); $0.string(RFC3339.format(milliseconds: failure.since))
                }
                $0.endObject()
            }
        }
        // The OpenAPI document: no token, it describes the routes and holds no data.
        let document = ByteBuffer(string: openAPIDocumentText)
        router.on(.openAPI, prefix: "") { _, _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: document))
        }
        MetricsRoutes(api: api, adminToken: adminToken).register(on: router)
        DashboardRoutes().register(on: router)
        let v1 = router.group("api/v1").add(
            middleware: BearerAuthMiddleware(adminToken: adminToken, tokens: api.directory.tokens))
        AccountRoutes(api: api).register(on: v1)
        GatewayRoutes(api: api).register(on: v1)
        CustomProviderRoutes(api: api).register(on: v1)
        ProviderKeyRoutes(api: api).register(on: v1)
        LogRoutes(api: api).register(on: v1)
        PriceRoutes(api: api).register(on: v1)
        UsageRoutes(api: api).register(on: v1)
        QuotaRoutes(api: api).register(on: v1)
        TokenRoutes(api: api).register(on: v1)
        CompactionRoutes(api: api).register(on: v1)
        v1.on(.ingest, prefix: Route.apiPrefix) { _, _, _ in
            let counters = api.ingest.counters
            let status = api.store.writeStatus
            let stored = status.statistics
            return json {
                $0.beginObject()
                $0.key("accepted"); $0.int(counters.accepted)
                $0.key("dropped"); $0.int(counters.dropped)
                $0.key("queued"); $0.int(counters.queued)
                $0.key("stored"); $0.int(stored.recordsAppended)
                $0.key("failed"); $0.int(stored.recordsFailed)
                $0.key("discarded"); $0.int(stored.recordsDiscarded)
                $0.key("state"); $0.string(status.isReady ? "writing" : "failing")
                if let failure = status.health.failure {
                    $0.key("failing_since"); $0.string(RFC3339.format(milliseconds: failure.since))
                    $0.key("failing_operation"); $0.string(failure.operation.rawValue)
                    $0.key("failing_reason"); $0.string(failure.reason)
                    $0.key("attempts"); $0.int(failure.attempts)
                    $0.key("next_retry_at"); $0.string(RFC3339.format(milliseconds: failure.nextRetryAt))
                }
                if let last = status.health.lastError {
                    $0.key("last_error")
                    $0.beginObject()
                    $0.key("at"); $0.string(RFC3339.format(milliseconds: last.at))
                    $0.key("operation"); $0.string(last.operation.rawValue)
                    $0.key("message"); $0.string(last.message)
                    $0.endObject()
                }
                $0.endObject()
            }
        }
        let cloudflare = router.group("client/v4")
            .add(middleware: CloudflareErrorMiddleware())
            .add(middleware: BearerAuthMiddleware(adminToken: adminToken, tokens: api.directory.tokens))
        CloudflareRoutes(api: api).register(on: cloudflare)
        CloudflareCustomProviderRoutes(api: api).register(on: cloudflare)
        return router
    }
}

extension Route {
    /// The path every API route is under.
    static let apiPrefix = "/api/v1"

    static let healthz = Route(
        .get, "/healthz", "Liveness: `{\"status\":\"ok\"}` while the process serves. No token needed.")
    static let readyz = Route(
        .get, "/readyz",
        "Readiness: 200 `{\"status\":\"ready\"}`, or 503 `{\"status\":\"store_cannot_write\",\"reason\",\"since\"}` "
            + "while the log store cannot write (the proxy keeps forwarding). No token needed.")
    static let openAPI = Route(
        .get, "/api/v1/openapi.json",
        "This API's OpenAPI 3.1 document, written from these declarations. No token needed.")
    static let ingest = Route(
        .get, "/api/v1/ingest",
        "Queue and store counters: `accepted`, `dropped`, `queued`, `stored`, `failed` (could not be stored; "
            + "`discarded` of them lost after they were appended), `state` (`writing` or `failing`); while failing "
            + "`failing_since`, `failing_operation`, `failing_reason`, `attempts`, `next_retry_at`; `last_error` (`at`, "
            + "`operation`, `message`) once a write has failed.")

    /// Every route the API serves, in the order the documentation lists them. A test checks that the router
    /// registers exactly these.
    static let all: [Route] = [
        .healthz, .readyz,
        .createAccount, .listAccounts, .getAccount, .updateAccount, .quota,
        .createGateway, .listGateways, .getGateway, .updateGateway, .deleteGateway, .gatewaySpend,
        .createCustomProvider, .listCustomProviders, .getCustomProvider, .updateCustomProvider, .deleteCustomProvider,
        .createProviderKey, .listProviderKeys, .deleteProviderKey,
        .createToken, .listTokens, .revokeToken,
        .listLogs, .getLog, .getLogRequest, .getLogResponse, .patchLog, .deleteLogs, .deleteLog,
        .usage, .monthlyReport,
        .listPrices, .addPrice, .deletePrice, .listAccountPrices, .addAccountPrice, .deleteAccountPrice, .reprice,
        .ingest, .compact, .openAPI, .metrics,
        .dashboard, .dashboardScript, .dashboardCharts, .dashboardStyle,
        .cfCreateGateway, .cfListGateways, .cfGetGateway, .cfUpdateGateway, .cfDeleteGateway,
        .cfCreateCustomProvider, .cfListCustomProviders, .cfGetCustomProvider, .cfDeleteCustomProvider,
        .cfListLogs, .cfDeleteLogs, .cfGetLog, .cfPatchLog, .cfGetLogRequest, .cfGetLogResponse,
    ]
}
