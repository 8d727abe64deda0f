import Hummingbird
import TollgateModel
import TollgateStorage

/// `/api/v1/accounts/{account}/gateways`: create, list, get and change gateways with their settings.
struct GatewayRoutes<Context: RequestContext> {
    let api: APIServices

    func register(on group: RouterGroup<Context>) {
        group.on(.createGateway, prefix: Route.apiPrefix) { _, context, input in try await create(input, context) }
        group.on(.listGateways, prefix: Route.apiPrefix) { _, context, _ in try await list(context) }
        group.on(.getGateway, prefix: Route.apiPrefix) { _, context, _ in try await get(context) }
        group.on(.updateGateway, prefix: Route.apiPrefix) { _, context, input in try await update(input, context) }
        group.on(.gatewaySpend, prefix: Route.apiPrefix) { _, context, _ in try await spend(context) }
        group.on(.deleteGateway, prefix: Route.apiPrefix) { _, context, _ in
            let account = try await api.requireAccount(context)
            let (_, logs) = try await Self.delete(
                api, account: account.id, id: try context.parameters.require("gateway"))
            return json {
                $0.beginObject()
                $0.key("deleted"); $0.int(1)
                $0.key("logs_deleted"); $0.int(logs)
                $0.endObject()
            }
        }
    }

    /// Deletes a gateway: the proxy stops forwarding for it at once (404 from the next request), then its settings,
    /// its cached responses and its logs go (the logs in batches, as `DELETE …/logs?gateway=` does). Its usage
    /// records, rollups and reports stay: they are the account's accounting. Returns the gateway as it was and how
    /// many logs were deleted; 404 for a gateway the account does not have.
    static func delete(_ api: APIServices, account: String, id: String) async throws -> (GatewayRecord, Int) {
        guard let gateway = try await api.blocking({ try api.catalog.deleteGateway(account: account, id: id) }) else {
            throw APIError.notFound("gateway \(id)")
        }
        api.directory.remove(account: account, gateway: id)
        if let cache = api.cache { _ = try await cache.invalidate(account: account, gateway: id) }
        let logs = try await api.blocking {
            let deleted = try api.catalog.deleteLogs(matching: LogQuery(account: account, gateway: id))
            try api.quota.refresh(account: account)
            return deleted
        }
        return (gateway, logs)
    }

    /// `GET …/gateways/{gateway}/spend`: each spend limit rule, and each partition seen, with its window, spend and
    /// what remains.
    private func spend(_ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let id = try context.parameters.require("gateway")
        guard let entry = api.directory.lookup(account: account.id, gateway: id) else {
            throw APIError.notFound("gateway \(id)")
        }
        let limits = entry.policy.spendLimits ?? SpendLimits(enabled: false, rules: [])
        let statuses = api.controls.spend.status(limits, account: account.id, gateway: id)
        return json {
            $0.beginObject()
            $0.key("gateway"); $0.string(id)
            $0.key("enabled"); $0.bool(limits.enabled)
            $0.key("rules")
            $0.beginArray()
            for status in statuses {
                let rule = limits.rules.first { $0.id == status.rule }
                $0.beginObject()
                $0.key("id"); $0.string(status.rule)
                $0.key("enabled"); $0.bool(rule?.enabled ?? false)
                $0.key("window"); $0.int(status.window)
                $0.key("technique"); $0.string(status.technique.rawValue)
                if let names = rule?.partitionNames, !names.isEmpty {
                    $0.key("partition")
                    $0.beginObject()
                    for (name, value) in zip(names, status.partition) { $0.key(name); $0.string(value) }
                    $0.endObject()
                }
                $0.key("limit"); $0.usd(picodollars: status.limit.picodollars)
                $0.key("spent"); $0.usd(picodollars: status.spent.picodollars)
                $0.key("remaining"); $0.usd(picodollars: max(0, status.limit.picodollars - status.spent.picodollars))
                $0.endObject()
            }
            $0.endArray()
            $0.endObject()
        }
    }

    private func create(_ input: RouteInput, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let gateway = try await Self.create(api, account: account.id, id: input.body.text("id")!, input.body)
        return json(status: .created) { $0.gateway(gateway) }
    }

    /// `PATCH …/gateways/{gateway}`: changes the settings the body names (null returns one to its default), checked
    /// against the gateway as stored, in one transaction; answers the gateway.
    private func update(_ input: RouteInput, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let id = try context.parameters.require("gateway")
        let gateway = try await Self.update(api, account: account.id, id: id, input.body)
        return json { $0.gateway(gateway) }
    }

    /// Creates a gateway with the settings `body` names, every one checked before anything is written, and makes
    /// it known to the proxy. Shared by this API and the Cloudflare-compatible one.
    static func create(_ api: APIServices, account: String, id: String, _ body: RouteInput.Values) async throws
        -> GatewayRecord
    {
        var draft = GatewayRecord(account: account, id: id, createdAt: 0)
        try apply(body, to: &draft)
        let settings = draft
        let gateway = try await api.blocking {
            let created = try api.catalog.createGateway(
                account: account, id: id, collectLogs: settings.collectLogs, streamUsage: settings.streamUsage,
                authentication: settings.authentication)
            guard settings.retentionDays != nil || settings.controls != GatewayControls() else { return created }
            return try api.catalog.modifyGateway(account: account, id: id) {
                $0.retentionDays = settings.retentionDays
                $0.controls = settings.controls
            } ?? created
        }
        api.directory.upsert(.init(gateway))
        return gateway
    }

    /// Changes the settings `body` names on a stored gateway in one transaction, in force for the next request;
    /// clears its cache when it says so. 404 for a gateway the account does not have.
    static func update(_ api: APIServices, account: String, id: String, _ body: RouteInput.Values) async throws
        -> GatewayRecord
    {
        let updated = try await api.blocking {
            try api.catalog.modifyGateway(account: account, id: id) { try apply(body, to: &$0) }
        }
        guard let gateway = updated else { throw APIError.notFound("gateway \(id)") }
        api.directory.upsert(.init(gateway))
        if gateway.controls.cacheInvalidateOnUpdate, let cache = api.cache {
            try await cache.invalidate(account: account, gateway: id)
        }
        return gateway
    }

    private func list(_ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let gateways = try await api.blocking { try api.catalog.gateways(account: account.id) }
        return jsonList("gateways", gateways) { $0.gateway($1) }
    }

    private func get(_ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let id = try context.parameters.require("gateway")
        guard let gateway = try await api.blocking({ try api.catalog.gateway(account: account.id, id: id) }) else {
            throw APIError.notFound("gateway \(id)")
        }
        return json { $0.gateway(gateway) }
    }

    /// Applies the settings a body names to a gateway, with the checks that span fields: a rate limit needs both
    /// its limit and its interval, a key names a token or a metadata key, spend limits are read in full.
    static func apply(_ body: RouteInput.Values, to gateway: inout GatewayRecord) throws {
        if let value = body.bool("collect_logs") { gateway.collectLogs = value }
        if let value = body.bool("stream_usage") { gateway.streamUsage = value }
        if let value = body.bool("authentication") { gateway.authentication = value }
        if let value = body.integerSetting("retention_days") { gateway.retentionDays = value.map { Int($0) } }
        var c = gateway.controls
        func int(_ name: String, _ apply: (Int?) -> Void) {
            if let value = body.integerSetting(name) { apply(value.map { Int($0) }) }
        }
        int("cache_ttl") { c.cacheTTL = $0 }
        if let value = body.boolSetting("cache_invalidate_on_update") { c.cacheInvalidateOnUpdate = value ?? false }
        int("rate_limiting_limit") { c.rateLimitingLimit = $0 }
        int("rate_limiting_interval") { c.rateLimitingInterval = $0 }
        if let value = body.textSetting("rate_limiting_technique") { c.rateLimitingTechnique = value }
        if let value = body.textSetting("rate_limiting_key") {
            guard RateLimit.Key(settingValue: value) != nil else {
                throw APIError.badParameter(
                    "rate_limiting_key", "expected null (the whole gateway), \"token\" or \"metadata.<key>\"")
            }
            c.rateLimitingKey = value
        }
        int("request_timeout") { c.requestTimeout = $0 }
        int("retry_max_attempts") { c.retryMaxAttempts = $0 }
        int("retry_delay") { c.retryDelay = $0 }
        if let value = body.textSetting("retry_backoff") { c.retryBackoff = value }
        if let value = body.jsonSetting("spend_limits") {
            if let json = value {
                do {
                    c.spendLimits = try SpendLimits(json: json).json
                } catch {
                    throw APIError.badParameter(error.path, error.message)
                }
            } else {
                c.spendLimits = nil
            }
        }
        switch (c.rateLimitingLimit, c.rateLimitingInterval) {
        case (_?, nil): throw APIError.badParameter("rate_limiting_interval", "required with rate_limiting_limit")
        case (nil, _?): throw APIError.badParameter("rate_limiting_limit", "required with rate_limiting_interval")
        default: break
        }
        gateway.controls = c
    }
}

extension Route {
    /// The settings a gateway takes on creation and on `PATCH`, with Cloudflare AI Gateway's names. Only settings the
    /// proxy applies are declared.
    static let gatewaySettings: [Field] = [
        Field("collect_logs", .boolean, "store each request's log (default `true`); when false, usage only"),
        Field(
            "stream_usage", .boolean,
            "ask OpenAI-style streams for their usage so they can be priced (default `true`)"),
        Field(
            "authentication", .boolean,
            "forward only requests with a valid `cf-aig-authorization` account token (default `false`)"),
        Field(
            "retention_days", .integer(1...36_500), "days logs are kept; null: the account's", nullable: true),
        Field(
            "cache_ttl", .integer(0...Int64(RequestControls.cacheTTLRange.upperBound)),
            "seconds a response is served from the cache; 0 or null: no caching (a request's `cf-aig-cache-ttl` or "
                + "`cf-aig-cache-key` still turns it on)",
            nullable: true),
        Field(
            "cache_invalidate_on_update", .boolean,
            "remove the gateway's cached responses whenever its settings change (default `false`)", nullable: true),
        Field(
            "rate_limiting_limit", .integer(1...1_000_000_000), "requests per interval; null: no rate limit",
            nullable: true),
        Field(
            "rate_limiting_interval", .integer(1...Int64(RateLimit.maximumInterval)), "seconds", nullable: true),
        Field(
            "rate_limiting_technique", .choice(BudgetWindow.Technique.allCases.map(\.rawValue)),
            "`fixed` windows since the epoch, or `sliding` (default `fixed`)", nullable: true),
        Field(
            "rate_limiting_key", .text,
            "null: one budget for the gateway; `token`: per `cf-aig-authorization` token; `metadata.<key>`: per "
                + "value of that `cf-aig-metadata` key",
            nullable: true),
        Field(
            "request_timeout", .integer(1...600_000), "milliseconds to the first response byte; null: none",
            nullable: true),
        Field(
            "retry_max_attempts", .integer(1...Int64(RetryPolicy.maximumAttempts)),
            "attempts in all for a request that fails before its response starts (connection error, timeout, 429, "
                + "500, 502, 503, 504, 529); null: 1",
            nullable: true),
        Field(
            "retry_delay", .integer(0...Int64(RetryPolicy.maximumDelay)),
            "milliseconds before the first retry; null: 0", nullable: true),
        Field(
            "retry_backoff", .choice(RetryPolicy.Backoff.allCases.map(\.rawValue)),
            "how the delay grows: `constant`, `linear` or `exponential` (default `constant`)", nullable: true),
        Field(
            "spend_limits", .object,
            "`{\"enabled\",\"rules\":[{\"id\",\"limit\",\"limitType\":\"cost\",\"window\",\"technique\",\"model\","
                + "\"provider\",\"metadata\",\"enabled\"}]}` as Cloudflare's, at most 20 rules",
            nullable: true),
    ]
    static let createGateway = Route(
        .post, "/api/v1/accounts/{account}/gateways", "Creates a gateway: 201 with its settings.",
        body: [Field("id", .identifier, "the gateway's id, as in proxy paths", required: true)] + gatewaySettings)
    static let gatewaySpend = Route(
        .get, "/api/v1/accounts/{account}/gateways/{gateway}/spend",
        "The gateway's spend limits now: each rule (and each partition seen) with `window`, `limit`, `spent` and "
            + "`remaining` in USD.")
    static let listGateways = Route(.get, "/api/v1/accounts/{account}/gateways", "The account's gateways.")
    static let getGateway = Route(.get, "/api/v1/accounts/{account}/gateways/{gateway}", "One gateway's settings.")
    static let updateGateway = Route(
        .patch, "/api/v1/accounts/{account}/gateways/{gateway}",
        "Changes the settings the body names, in force for the next request; answers the gateway.",
        body: gatewaySettings)
    static let deleteGateway = Route(
        .delete, "/api/v1/accounts/{account}/gateways/{gateway}",
        "Deletes a gateway with its logs and cached responses (its usage and reports stay): "
            + "`{\"deleted\":1,\"logs_deleted\":N}`; the proxy answers 404 for it from the next request.")
}

extension JSONWriter {
    mutating func gateway(_ gateway: GatewayRecord) {
        let c = gateway.controls
        func int(_ value: Int?) { self.int(value.map { Int64($0) }) }
        beginObject()
        key("id"); string(gateway.id)
        key("account"); string(gateway.account)
        key("collect_logs"); bool(gateway.collectLogs)
        key("stream_usage"); bool(gateway.streamUsage)
        key("authentication"); bool(gateway.authentication)
        key("retention_days"); int(gateway.retentionDays)
        key("cache_ttl"); int(c.cacheTTL)
        key("cache_invalidate_on_update"); bool(c.cacheInvalidateOnUpdate)
        key("rate_limiting_limit"); int(c.rateLimitingLimit)
        key("rate_limiting_interval"); int(c.rateLimitingInterval)
        key("rate_limiting_technique"); string(c.rateLimitingTechnique)
        key("rate_limiting_key"); string(c.rateLimitingKey)
        key("request_timeout"); int(c.requestTimeout)
        key("retry_max_attempts"); int(c.retryMaxAttempts)
        key("retry_delay"); int(c.retryDelay)
        key("retry_backoff"); string(c.retryBackoff)
        key("spend_limits")
        if let limits = GatewayPolicy(c).spendLimits { spendLimits(limits) } else { null() }
        key("created_at"); string(RFC3339.format(milliseconds: gateway.createdAt))
        endObject()
    }
}

extension GatewayDirectory.Entry {
    /// What the proxy needs of a stored gateway.
    init(_ gateway: GatewayRecord) {
        self.init(
            account: gateway.account, gateway: gateway.id, collectLogs: gateway.collectLogs,
            streamUsage: gateway.streamUsage, authentication: gateway.authentication,
            policy: GatewayPolicy(gateway.controls))
    }
}
