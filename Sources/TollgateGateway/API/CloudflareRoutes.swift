import Hummingbird
import NIOCore
import TollgateModel
import TollgateStorage

/// `/client/v4/accounts/{account}/ai-gateway/…`: the gateway management routes of Cloudflare's API, with its paths,
/// parameter and field names and response envelope, so a client written for Cloudflare AI Gateway (such as the
/// `cloudflare` Python SDK with `base_url` set to `http://<host>/client/v4`) manages a Tollgate gateway. Same bearer
/// tokens and access rules as `/api/v1`; every handler calls the same functions as its `/api/v1` counterpart.
///
/// Cloudflare's shapes, from its API reference (developers.cloudflare.com/api/resources/ai_gateway/) and the types
/// of its Python SDK (github.com/cloudflare/cloudflare-python, `src/cloudflare/types/ai_gateway/`,
/// `src/cloudflare/pagination.py`):
/// - every answer is `{"success","errors","messages","result"}`, a list also with `result_info`
///   (`page`, `per_page`, `count`, `total_count`), an error with `errors: [{"code","message"}]`;
/// - gateways: `POST …/ai-gateway/gateways` (`id` plus settings), `GET …/gateways` (`page`, `per_page`, `search`
///   "search by id"), `GET`/`PUT`/`DELETE …/gateways/{id}`; settings `cache_ttl`, `cache_invalidate_on_update`,
///   `collect_logs`, `rate_limiting_interval`, `rate_limiting_limit`, `rate_limiting_technique`, `authentication`.
///   Those names are Tollgate's own (`Route.gatewaySettings`), so the body is the same as `/api/v1`'s; Cloudflare's
///   settings Tollgate does not apply (`log_management`, `logpush`, …) are refused by name, never ignored.
struct CloudflareRoutes<Context: RequestContext> {
    let api: APIServices

    func register(on group: RouterGroup<Context>) {
        group.on(.cfCreateGateway, prefix: Route.cloudflarePrefix) { _, context, input in
            let account = try await api.requireAccount(context)
            let gateway = try await GatewayRoutes<Context>.create(
                api, account: account.id, id: input.body.text("id")!, input.body)
            return cloudflare { $0.gateway(gateway) }
        }
        group.on(.cfListGateways, prefix: Route.cloudflarePrefix) { _, context, input in
            try await list(input.query, context)
        }
        group.on(.cfGetGateway, prefix: Route.cloudflarePrefix) { _, context, _ in
            let account = try await api.requireAccount(context)
            let id = try context.parameters.require("gateway")
            guard let gateway = try await api.blocking({ try api.catalog.gateway(account: account.id, id: id) })
            else { throw APIError.notFound("gateway \(id)") }
            return cloudflare { $0.gateway(gateway) }
        }
        group.on(.cfUpdateGateway, prefix: Route.cloudflarePrefix) { _, context, input in
            let account = try await api.requireAccount(context)
            let id = try context.parameters.require("gateway")
            let gateway = try await GatewayRoutes<Context>.update(api, account: account.id, id: id, input.body)
            return cloudflare { $0.gateway(gateway) }
        }
        group.on(.cfDeleteGateway, prefix: Route.cloudflarePrefix) { _, context, _ in
            let account = try await api.requireAccount(context)
            let id = try context.parameters.require("gateway")
            let (gateway, _) = try await GatewayRoutes<Context>.delete(api, account: account.id, id: id)
            return cloudflare { $0.gateway(gateway) }
        }
        group.on(.cfListLogs, prefix: Route.cloudflarePrefix) { _, context, input in
            try await listLogs(input.query, context)
        }
        group.on(.cfDeleteLogs, prefix: Route.cloudflarePrefix) { _, context, input in
            try await deleteLogs(input.query, context)
        }
        group.on(.cfGetLog, prefix: Route.cloudflarePrefix) { _, context, _ in
            let entry = try await log(context).entry
            return cloudflare { $0.cloudflareLog(entry) }
        }
        group.on(.cfPatchLog, prefix: Route.cloudflarePrefix) { _, context, input in
            let (account, gateway) = try await gateway(context)
            let id = try context.parameters.require("id")
            // Only a log of the gateway the path names is changed.
            _ = try await log(context)
            try await LogRoutes<Context>.annotate(api, account: account, id: id, input.body)
            let entry = try await LogRoutes<Context>.lookup(api, account: account, id: id).entry
            guard entry.gateway == gateway else { throw APIError.notFound("log \(id)") }
            return cloudflare { $0.cloudflareLog(entry) }
        }
        group.on(.cfGetLogRequest, prefix: Route.cloudflarePrefix) { _, context, _ in
            try LogRoutes<Context>.payload(try await log(context).record, response: false)
        }
        group.on(.cfGetLogResponse, prefix: Route.cloudflarePrefix) { _, context, _ in
            try LogRoutes<Context>.payload(try await log(context).record, response: true)
        }
    }

    /// The gateway the path names; 404 when the account has none of that id.
    private func gateway(_ context: Context) async throws -> (account: String, gateway: String) {
        let account = try await api.requireAccount(context)
        let id = try context.parameters.require("gateway")
        guard api.directory.lookup(account: account.id, gateway: id) != nil else {
            throw APIError.notFound("gateway \(id)")
        }
        return (account.id, id)
    }

    /// The log the path names, as `/api/v1` finds it, and only in the gateway the path names.
    private func log(_ context: Context) async throws -> (entry: LogIndexEntry, record: LogRecord) {
        let (account, gateway) = try await gateway(context)
        let id = try context.parameters.require("id")
        let found = try await LogRoutes<Context>.lookup(api, account: account, id: id)
        guard found.entry.gateway == gateway else { throw APIError.notFound("log \(id)") }
        return found
    }

    /// `GET …/gateways/{gateway}/logs`: Cloudflare's "List Gateway Logs" (parameters from its API reference and
    /// the Python SDK's `LogListParams`: `page`, `per_page`, `order_by`, `order_by_direction`, `direction`,
    /// `provider`, `model`, `success`, `cached`, `start_date`, `end_date`), through the same listing as `GET
    /// /api/v1/…/logs`. Logs are ordered by `created_at` only, so that is the one `order_by` taken. A page is
    /// reached by walking the listing's cursor, so `page` × `per_page` is bounded; `result_info` has no
    /// `total_count`.
    private func listLogs(_ q: RouteInput.Values, _ context: Context) async throws -> Response {
        let (account, gateway) = try await gateway(context)
        var query = LogQuery(account: account)
        query.gateway = gateway
        query.provider = q.text("provider")
        query.model = q.text("model")
        query.success = q.bool("success")
        query.cached = q.bool("cached")
        query.from = q.instant("start_date")
        query.to = q.instant("end_date")
        if let from = query.from, let to = query.to, from >= to {
            throw APIError.badParameter("end_date", "must be later than start_date")
        }
        try CloudflareLogFilters.apply(
            try CloudflareLogFilters.clauses(q.parts("filters")), to: &query, for: .listing)
        let direction = q.text("order_by_direction") ?? q.text("direction")?.lowercased() ?? "desc"
        query.order = direction == "asc" ? .ascending : .descending
        let page = Int(q.integer("page") ?? 1)
        let perPage = Int(q.integer("per_page") ?? 20)
        let skipped = (page - 1) * perPage
        guard skipped + perPage <= Self.deepestLog else {
            throw APIError.badParameter("page", "page × per_page is at most \(Self.deepestLog)")
        }
        let start = query
        let entries = try await api.blocking { () -> [LogIndexEntry] in
            var query = start
            var skip = skipped
            while skip > 0 {
                query.limit = min(skip, LogQuery.limits.upperBound)
                let passed = try api.catalog.listLogs(query)
                guard let next = passed.nextCursor, !passed.entries.isEmpty else { return [] }
                skip -= passed.entries.count
                query.cursor = next
            }
            query.limit = perPage
            return try api.catalog.listLogs(query).entries
        }
        return cloudflare(
            result: {
                $0.beginArray()
                for entry in entries { $0.cloudflareLog(entry) }
                $0.endArray()
            },
            info: (page: page, perPage: perPage, count: entries.count, total: nil))
    }

    /// `DELETE …/gateways/{gateway}/logs`: Cloudflare's "Delete Gateway Logs" (`filters`, `limit`, `order_by`,
    /// `order_by_direction`): deletes at most `limit` (default and at most 10,000) of the gateway's logs matching
    /// the filters, the oldest first unless `order_by_direction=desc`. A filter the index cannot apply exactly is
    /// refused, never dropped. Answers `result: {"success": true, "deleted": N}`.
    private func deleteLogs(_ q: RouteInput.Values, _ context: Context) async throws -> Response {
        let (account, gateway) = try await gateway(context)
        var query = LogQuery(account: account, gateway: gateway)
        try CloudflareLogFilters.apply(
            try CloudflareLogFilters.clauses(q.parts("filters")), to: &query, for: .deleting)
        let limit = Int(q.integer("limit") ?? 10_000)
        let newestFirst = q.text("order_by_direction") == "desc"
        let deleted = try await api.blocking { [query] () -> Int in
            var deleted = 0
            if newestFirst {
                // The newest `limit` matching logs, by id; deleted one by one (each with its tombstone and count).
                var page = query
                page.order = .descending
                var ids: [LogID] = []
                while ids.count < limit {
                    page.limit = min(limit - ids.count, LogQuery.limits.upperBound)
                    let found = try api.catalog.listLogs(page)
                    ids += found.entries.map(\.id)
                    guard let next = found.nextCursor, !found.entries.isEmpty else { break }
                    page.cursor = next
                }
                for id in ids where try api.catalog.deleteLog(account: account, id: id) { deleted += 1 }
            } else {
                deleted = try api.catalog.deleteLogs(matching: query, atMost: limit)
            }
            try api.quota.refresh(account: account)
            return deleted
        }
        return cloudflare {
            $0.beginObject()
            $0.key("success"); $0.bool(true)
            $0.key("deleted"); $0.int(deleted)
            $0.endObject()
        }
    }

    /// How deep into a listing `page` reaches.
    static var deepestLog: Int { 100_000 }

    /// `GET …/ai-gateway/gateways`: the account's gateways whose id contains `search`, in id order, a page at a
    /// time (`page` from 1, `per_page` default 20); a page past the end is empty, which is where the SDK's
    /// paginator stops.
    private func list(_ q: RouteInput.Values, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        var gateways = try await api.blocking { try api.catalog.gateways(account: account.id) }
        if let search = q.text("search")?.lowercased() { gateways = gateways.filter { $0.id.contains(search) } }
        gateways.sort { $0.id < $1.id }
        return cloudflarePage(gateways, q) { $0.gateway($1) }
    }
}

/// One page of a whole list in Cloudflare's envelope, with `result_info` (`page` from 1, `per_page` default 20,
/// `total_count`); a page past the end is empty, which is where Cloudflare's SDK paginators stop.
func cloudflarePage<Item>(_ all: [Item], _ q: RouteInput.Values, _ item: (inout JSONWriter, Item) -> Void)
    -> Response
{
    let page = Int(q.integer("page") ?? 1)
    let perPage = Int(q.integer("per_page") ?? 20)
    let start = min(all.count, (page - 1) * perPage)
    let items = all[start..<min(all.count, start + perPage)]
    return cloudflare(
        result: {
            $0.beginArray()
            for entry in items { item(&$0, entry) }
            $0.endArray()
        },
        info: (page: page, perPage: perPage, count: items.count, total: all.count))
}

/// A success in Cloudflare's envelope: `{"success":true,"errors":[],"messages":[],"result":…}`, with
/// `result_info` for a page of a list.
func cloudflare(
    status: HTTPResponse.Status = .ok, result: (inout JSONWriter) -> Void,
    info: (page: Int, perPage: Int, count: Int, total: Int?)? = nil
) -> Response {
    json(status: status) {
        $0.beginObject()
        $0.key("success"); $0.bool(true)
        $0.key("errors"); $0.beginArray(); $0.endArray()
        $0.key("messages"); $0.beginArray(); $0.endArray()
        $0.key("result")
        result(&$0)
        if let info {
            $0.key("result_info")
            $0.beginObject()
            $0.key("page"); $0.int(info.page)
            $0.key("per_page"); $0.int(info.perPage)
            $0.key("count"); $0.int(info.count)
            if let total = info.total { $0.key("total_count"); $0.int(total) }
            $0.endObject()
        }
        $0.endObject()
    }
}

func cloudflare(_ result: (inout JSONWriter) -> Void) -> Response { cloudflare(result: result) }

/// Errors under `/client/v4` in Cloudflare's envelope: `{"success":false,"errors":[{"code","message"}],
/// "messages":[],"result":null}` with the same status as `/api/v1` gives. Cloudflare's error codes are numbers of
/// its own; here `code` is the HTTP status and the message starts with Tollgate's error code
/// (`invalid_parameter: cache_ttl: …`), so a client can still tell errors apart.
struct CloudflareErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        let error: APIError
        do {
            return try await next(request, context)
        } catch let caught as APIError {
            error = caught
        } catch let caught as CatalogError {
            error = APIError(catalogError: caught)
        } catch let caught as HTTPError {
            error = APIError(
                caught.status, code: caught.status == .notFound ? "not_found" : "http_\(caught.status.code)",
                message: caught.body ?? caught.status.reasonPhrase)
        } catch {
            context.logger.error(
                "API request failed", metadata: ["error": "\(error)", "http.path": "\(request.uri.path)"])
            return Self.response(
                APIError(.internalServerError, code: "internal_error", message: "internal error; see the server log"))
        }
        return Self.response(error)
    }

    static func response(_ error: APIError) -> Response {
        json(status: error.status) {
            $0.beginObject()
            $0.key("success"); $0.bool(false)
            $0.key("errors")
            $0.beginArray()
            $0.beginObject()
            $0.key("code"); $0.int(Int(error.status.code))
            $0.key("message"); $0.string("\(error.code): \(error.message)")
            $0.endObject()
            $0.endArray()
            $0.key("messages"); $0.beginArray(); $0.endArray()
            $0.key("result"); $0.null()
            $0.endObject()
        }
    }
}

extension Route {
    /// The path the Cloudflare-compatible routes are under, as Cloudflare's API base `api.cloudflare.com/client/v4`.
    static let cloudflarePrefix = "/client/v4"

    static let cfCreateGateway = Route(
        .post, "/client/v4/accounts/{account}/ai-gateway/gateways",
        "Cloudflare's \"Create a new Gateway\": the settings of `POST /api/v1/accounts/{account}/gateways`; answers "
            + "the gateway as `result`.",
        body: [Field("id", .identifier, "the gateway's id, as in proxy paths", required: true)] + gatewaySettings)
    static let cfListGateways = Route(
        .get, "/client/v4/accounts/{account}/ai-gateway/gateways",
        "Cloudflare's \"List Gateways\": the account's gateways in id order, a page at a time, with `result_info` "
            + "(`page`, `per_page`, `count`, `total_count`).",
        query: [
            Field("page", .integer(1...1_000_000), "page number, from 1 (default 1)"),
            Field("per_page", .integer(1...1000), "gateways per page (default 20)"),
            Field("search", .text, "only gateways whose id contains this"),
        ])
    static let cfGetGateway = Route(
        .get, "/client/v4/accounts/{account}/ai-gateway/gateways/{gateway}",
        "Cloudflare's \"Fetch a Gateway\": its settings as `result`.")
    static let cfListLogs = Route(
        .get, "/client/v4/accounts/{account}/ai-gateway/gateways/{gateway}/logs",
        "Cloudflare's \"List Gateway Logs\": the gateway's logs, newest first unless asked, a page at a time with "
            + "`result_info` (`page`, `per_page`, `count`).",
        query: [
            Field("page", .integer(1...100_000), "page number, from 1 (default 1)"),
            Field("per_page", .integer(1...1000), "logs per page (default 20)"),
            Field("order_by", .choice(["created_at"]), "the order's column: `created_at`, the only one"),
            Field("order_by_direction", .choice(["asc", "desc"]), "`asc` or `desc` (default)"),
            Field("direction", .choice(["asc", "desc", "ASC", "DESC"]), "as `order_by_direction`"),
            Field("provider", .text, "provider slug, e.g. `openai`"),
            Field("model", .text, "model as the provider named it"),
            Field("success", .boolean, "2xx or not"),
            Field("cached", .boolean, "answered from the gateway's cache, or not"),
            Field("start_date", .timestamp, "created at or after"),
            Field("end_date", .timestamp, "created before"),
            .prefixed("filters", .filterParts, logFilterParts),
        ])
    static let cfDeleteLogs = Route(
        .delete, "/client/v4/accounts/{account}/ai-gateway/gateways/{gateway}/logs",
        "Cloudflare's \"Delete Gateway Logs\": deletes at most `limit` of the gateway's logs matching `filters` "
            + "(provider, model, success eq; created_at gt, lt), oldest first unless `order_by_direction=desc`; "
            + "answers `result: {\"success\":true,\"deleted\":N}`. Without filters, the gateway's logs up to `limit`.",
        query: [
            Field("limit", .integer(1...10_000), "at most this many logs (default 10000)"),
            Field("order_by", .choice(["created_at"]), "the order's column: `created_at`, the only one"),
            Field("order_by_direction", .choice(["asc", "desc"]), "`asc` (default: oldest first) or `desc`"),
            .prefixed("filters", .filterParts, logFilterParts),
        ])
    static let cfDeleteGateway = Route(
        .delete, "/client/v4/accounts/{account}/ai-gateway/gateways/{gateway}",
        "Cloudflare's \"Delete a Gateway\": as `DELETE /api/v1/…/gateways/{gateway}` (its logs and cached responses "
            + "go, its usage stays); answers the gateway as it was as `result`.")
    /// The `filters` family's summary.
    static let logFilterParts =
        "Cloudflare's filters array: `filters.key`, `filters.operator`, `filters.value` per filter, in order (as its "
        + "SDK sends them), or `filters[i][key]`…; keys provider, model, success, cached, event_id, feedback with `eq`, "
        + "created_at with `gt`/`lt` (deleting: provider, model, success, created_at); any other is refused"

    static let cfGetLog = Route(
        .get, "/client/v4/accounts/{account}/ai-gateway/gateways/{gateway}/logs/{id}",
        "Cloudflare's \"Get Gateway Log Detail\": one log's fields as `result`.")
    /// Cloudflare's "Patch Gateway Log" (`PATCH …/gateways/{gateway_id}/logs/{id}`, body `feedback`, `score`,
    /// `metadata`; developers.cloudflare.com/api/resources/ai_gateway/subresources/logs/methods/edit): the same
    /// body and rules as `PATCH /api/v1/accounts/{account}/logs/{id}`.
    static let cfPatchLog = Route(
        .patch, "/client/v4/accounts/{account}/ai-gateway/gateways/{gateway}/logs/{id}",
        "Cloudflare's \"Patch Gateway Log\": human feedback as `PATCH /api/v1/…/logs/{id}` takes it; answers the log "
            + "as `result`.",
        body: patchLog.body)
    static let cfGetLogRequest = Route(
        .get, "/client/v4/accounts/{account}/ai-gateway/gateways/{gateway}/logs/{id}/request",
        "Cloudflare's \"Get Gateway Log Request\": the request body as sent, with its content type.")
    static let cfGetLogResponse = Route(
        .get, "/client/v4/accounts/{account}/ai-gateway/gateways/{gateway}/logs/{id}/response",
        "Cloudflare's \"Get Gateway Log Response\": the response body as received, with its content type.")
    static let cfUpdateGateway = Route(
        .put, "/client/v4/accounts/{account}/ai-gateway/gateways/{gateway}",
        "Cloudflare's \"Update a Gateway\": changes the settings the body names (null: the default), as `PATCH "
            + "/api/v1/…/gateways/{gateway}`; answers the gateway as `result`.",
        body: gatewaySettings)
}

extension JSONWriter {
    /// A log with the fields of Cloudflare's log objects (`LogListResponse` of its Python SDK): `duration` in whole
    /// milliseconds, `metadata` as a JSON text; then Tollgate's own `gateway`, `feedback`, `score` and `event_id`.
    mutating func cloudflareLog(_ e: LogIndexEntry) {
        beginObject()
        key("id"); string(e.id.description)
        key("created_at"); string(RFC3339.format(milliseconds: e.createdAt))
        key("provider"); string(e.provider)
        key("model"); string(e.model)
        key("path"); string(e.path)
        key("success"); bool(e.success)
        key("cached"); bool(e.cached)
        key("status_code"); int(e.statusCode)
        key("duration"); int(e.durationMicros / 1000)
        key("tokens_in"); int(e.usage.tokensIn)
        key("tokens_out"); int(e.usage.tokensOut)
        key("cost"); usd(picodollars: e.cost.map { Int128($0) })
        key("step"); int(e.step.map { Int64($0) })
        var metadata = JSONWriter(capacity: 64)
        metadata.metadata(e.shownMetadata)
        key("metadata"); string(String(buffer: metadata.buffer))
        key("gateway"); string(e.gateway)
        key("event_id"); string(e.effectiveEventID)
        key("feedback"); int(e.annotation?.feedback.map { Int64($0) })
        key("score"); int(e.annotation?.score.map { Int64($0) })
        endObject()
    }
}
