import Hummingbird
import TollgateAnalytics
import TollgateModel
import TollgateStorage

/// `/api/v1/prices` (the public price list) and `/api/v1/accounts/{account}/prices` (an account's negotiated
/// prices), plus `POST /api/v1/accounts/{account}/reprice`.
///
/// A price row in JSON: `provider`, `model`, `service_tier` (default `default`), `effective_from` (`YYYY-MM-DD` or
/// RFC 3339, UTC), `input` and `output` in USD per 1M tokens (`output` omitted: none billed, as for embedding
/// models), and optionally `cached_input`, `cache_write_5m`,
/// `cache_write_1h`, `reasoning`, `batch_input`, `batch_output`, `prompt_threshold` with `input_above`,
/// `output_above`, `cached_input_above`, `cache_write_5m_above`, `cache_write_1h_above`, and `source`; also
/// `cache_write` / `cache_write_above` (writes without a TTL, OpenAI), `batch_cached_input`, `batch_input_above`,
/// `batch_output_above`, `batch_cached_input_above`, `request_fee` (USD per 1,000 requests), `retired` (a date)
/// and `retrieved` (the day the source was read). Prices are exact decimals with at most 6 places (a picodollar per
/// token).
struct PriceRoutes<Context: RequestContext> {
    let api: APIServices

    func register(on group: RouterGroup<Context>) {
        group.on(.listPrices, prefix: Route.apiPrefix) { _, _, input in list(input, account: "") }
        group.on(.addPrice, prefix: Route.apiPrefix) { _, _, input in try await upsert(input, account: "") }
        group.on(.deletePrice, prefix: Route.apiPrefix) { _, _, input in try await delete(input, account: "") }
        group.on(.listAccountPrices, prefix: Route.apiPrefix) { _, context, input in
            list(input, account: try await api.requireAccount(context).id)
        }
        group.on(.addAccountPrice, prefix: Route.apiPrefix) { _, context, input in
            try await upsert(input, account: api.requireAccount(context).id)
        }
        group.on(.deleteAccountPrice, prefix: Route.apiPrefix) { _, context, input in
            try await delete(input, account: api.requireAccount(context).id)
        }
        group.on(.reprice, prefix: Route.apiPrefix) { _, context, input in try await reprice(input, context) }
    }

    private func list(_ input: RouteInput, account: String) -> Response {
        let provider = input.query.text("provider")
        let model = input.query.text("model")
        let entries = api.ledger.prices.entries.filter {
            $0.account == account && (provider == nil || $0.row.provider == provider)
                && (model == nil || $0.row.model == model)
        }
        return jsonList("prices", entries) { $0.price($1) }
    }

    private func upsert(_ input: RouteInput, account: String) async throws -> Response {
        let row = try PriceRow(input.body)
        let entry = PriceBook.Entry(account: account, row: row)
        try await api.blocking { try api.ledger.prices.upsert(entry) }
        let stored = api.ledger.prices.entries.first {
            $0.account == account && $0.row.provider == row.provider && $0.row.model == row.model
                && $0.row.serviceTier == row.serviceTier && $0.row.effectiveFrom == row.effectiveFrom
        }
        return json(status: .created) { $0.price(stored ?? entry) }
    }

    private func delete(_ input: RouteInput, account: String) async throws -> Response {
        let query = input.query
        let provider = query.text("provider")!
        let model = query.text("model")!
        let effectiveFrom = query.instant("effective_from")!
        let tier = query.text("service_tier") ?? "default"
        let removed = try await api.blocking {
            try api.ledger.prices.delete(
                account: account, provider: provider, model: model, serviceTier: tier, effectiveFrom: effectiveFrom)
        }
        guard removed else { throw APIError.notFound("price row") }
        return Response(status: .noContent)
    }

    private func reprice(_ input: RouteInput, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let from = input.body.instant("from")!
        let to = input.body.instant("to")!
        guard from < to else { throw APIError.badParameter("to", "must be after from") }
        let result = try await api.blocking {
            try api.ledger.reprice(account: account.id, from: from, to: to, store: api.store)
        }
        return json {
            $0.beginObject()
            $0.key("account"); $0.string(account.id)
            $0.key("examined"); $0.int(result.examined)
            $0.key("changed"); $0.int(result.changed)
            $0.endObject()
        }
    }
}

extension Route {
    /// The fields of a price row, as `POST …/prices` takes them.
    static let priceRowFields: [Field] = [
        Field("provider", .text, "provider slug", required: true),
        Field("model", .text, "model name", required: true),
        Field("service_tier", .text, "tier the response reports (default `default`)"),
        Field("effective_from", .date, "in force from (UTC)", required: true),
        Field("input", .price, "USD per 1M input tokens", required: true),
        Field("output", .price, "USD per 1M output tokens (omitted: none billed)", nullable: true),
        Field("cached_input", .price, "cache reads", nullable: true),
        Field("cache_write", .price, "cache writes without a TTL (OpenAI)", nullable: true),
        Field("cache_write_5m", .price, "5-minute cache writes", nullable: true),
        Field("cache_write_1h", .price, "1-hour cache writes", nullable: true),
        Field("reasoning", .price, "reasoning tokens, when billed apart from output", nullable: true),
        Field("batch_input", .price, "batch input", nullable: true),
        Field("batch_output", .price, "batch output", nullable: true),
        Field("batch_cached_input", .price, "batch cache reads", nullable: true),
        Field(
            "prompt_threshold", .integer(1...100_000_000),
            "prompt length above which the `_above` prices apply", nullable: true),
        Field("input_above", .price, "input above the threshold", nullable: true),
        Field("output_above", .price, "output above the threshold", nullable: true),
        Field("cached_input_above", .price, "cache reads above the threshold", nullable: true),
        Field("cache_write_above", .price, "cache writes without a TTL above the threshold", nullable: true),
        Field("cache_write_5m_above", .price, "5-minute cache writes above the threshold", nullable: true),
        Field("cache_write_1h_above", .price, "1-hour cache writes above the threshold", nullable: true),
        Field("batch_input_above", .price, "batch input above the threshold", nullable: true),
        Field("batch_output_above", .price, "batch output above the threshold", nullable: true),
        Field("batch_cached_input_above", .price, "batch cache reads above the threshold", nullable: true),
        Field(
            "request_fee", .requestFee, "a fee per request, charged only when the record says it happened",
            nullable: true),
        Field("retired", .date, "the day the model was retired", nullable: true),
        Field("source", .text, "where the price was read (default `api`)", nullable: true),
        Field("retrieved", .text, "the day the source was read", nullable: true),
    ]
    /// What selects one price row to delete.
    static let priceRowKey: [Field] = [
        Field("provider", .text, "provider slug", required: true),
        Field("model", .text, "model name", required: true),
        Field("effective_from", .date, "the row's date", required: true),
        Field("service_tier", .text, "default `default`"),
    ]
    static let priceFilters: [Field] = [
        Field("provider", .text, "only this provider's rows"),
        Field("model", .text, "only this model's rows"),
    ]
    static let listPrices = Route(.get, "/api/v1/prices", "The public price list.", query: priceFilters)
    static let addPrice = Route(
        .post, "/api/v1/prices", "Adds or corrects a public price row: 201 with the row.", body: priceRowFields)
    static let deletePrice = Route(.delete, "/api/v1/prices", "Deletes a public price row: 204.", query: priceRowKey)
    static let listAccountPrices = Route(
        .get, "/api/v1/accounts/{account}/prices", "The account's negotiated prices.", query: priceFilters)
    static let addAccountPrice = Route(
        .post, "/api/v1/accounts/{account}/prices", "Adds or corrects a negotiated price row: 201 with the row.",
        body: priceRowFields)
    static let deleteAccountPrice = Route(
        .delete, "/api/v1/accounts/{account}/prices", "Deletes a negotiated price row: 204.", query: priceRowKey)
    static let reprice = Route(
        .post, "/api/v1/accounts/{account}/reprice",
        "Recomputes a period's costs and rollups under the current prices: `{\"examined\",\"changed\"}`.",
        body: [
            Field("from", .date, "start of the period", required: true),
            Field("to", .date, "end of the period", required: true),
        ])
}

/// A price row's date: `YYYY-MM-DD` (midnight UTC) or an RFC 3339 timestamp.
enum PriceDate {
    static func parse(_ text: String) -> Int64? {
        if text.count == 10, let ms = RFC3339.parse(text + "T00:00:00Z") { return ms }
        return RFC3339.parse(text)
    }
}

extension PriceRow {
    /// A price row from the checked fields of `POST …/prices`.
    init(_ body: RouteInput.Values) throws {
        let threshold = body.integer("prompt_threshold")
        let aboveNames = [
            "input_above", "output_above", "cached_input_above", "cache_write_5m_above", "cache_write_1h_above",
        ]
        if threshold == nil, let name = aboveNames.first(where: { body.price($0) != nil }) {
            throw APIError.badParameter(name, "needs prompt_threshold")
        }
        var above: PriceRow.Rates?
        if threshold != nil {
            guard let input = body.price("input_above") else {
                throw APIError.badParameter("input_above", "required with prompt_threshold")
            }
            guard let output = body.price("output_above") else {
                throw APIError.badParameter("output_above", "required with prompt_threshold")
            }
            above = PriceRow.Rates(
                input: input, output: output, cachedInput: body.price("cached_input_above"),
                cacheWrite: body.price("cache_write_above"), cacheWrite5m: body.price("cache_write_5m_above"),
                cacheWrite1h: body.price("cache_write_1h_above"))
        }
        self.init(
            provider: body.text("provider")!, model: body.text("model")!,
            serviceTier: body.text("service_tier") ?? "default", effectiveFrom: body.instant("effective_from")!,
            rates: PriceRow.Rates(
                input: body.price("input")!, output: body.price("output") ?? .zero,
                cachedInput: body.price("cached_input"), cacheWrite: body.price("cache_write"),
                cacheWrite5m: body.price("cache_write_5m"), cacheWrite1h: body.price("cache_write_1h"),
                reasoning: body.price("reasoning")),
            promptThreshold: threshold, ratesAbove: above, batchInput: body.price("batch_input"),
            batchOutput: body.price("batch_output"), batchCachedInput: body.price("batch_cached_input"),
            batchInputAbove: body.price("batch_input_above"), batchOutputAbove: body.price("batch_output_above"),
            batchCachedInputAbove: body.price("batch_cached_input_above"), requestFee: body.price("request_fee"),
            retired: body.instant("retired"), source: body.text("source") ?? "api",
            retrieved: body.text("retrieved") ?? "")
    }
}

extension JSONWriter {
    /// A price in USD per 1M tokens (picodollars per token ÷ 10⁶) as an exact JSON number.
    mutating func perMillion(_ money: Money?) {
        guard let money else { return null() }
        usd(picodollars: money.picodollars * 1_000_000)
    }

    mutating func price(_ entry: PriceBook.Entry) {
        let row = entry.row
        beginObject()
        if !entry.account.isEmpty { key("account"); string(entry.account) }
        key("provider"); string(row.provider)
        key("model"); string(row.model)
        key("service_tier"); string(row.serviceTier)
        key("effective_from"); string(RFC3339.format(milliseconds: row.effectiveFrom))
        key("input"); perMillion(row.rates.input)
        key("output"); perMillion(row.rates.output)
        key("cached_input"); perMillion(row.rates.cachedInput)
        key("cache_write"); perMillion(row.rates.cacheWrite)
        key("cache_write_5m"); perMillion(row.rates.cacheWrite5m)
        key("cache_write_1h"); perMillion(row.rates.cacheWrite1h)
        key("reasoning"); perMillion(row.rates.reasoning)
        key("batch_input"); perMillion(row.batchInput)
        key("batch_output"); perMillion(row.batchOutput)
        key("batch_cached_input"); perMillion(row.batchCachedInput)
        key("prompt_threshold"); int(row.promptThreshold)
        key("input_above"); perMillion(row.ratesAbove?.input)
        key("output_above"); perMillion(row.ratesAbove?.output)
        key("cached_input_above"); perMillion(row.ratesAbove?.cachedInput)
        key("cache_write_above"); perMillion(row.ratesAbove?.cacheWrite)
        key("cache_write_5m_above"); perMillion(row.ratesAbove?.cacheWrite5m)
        key("cache_write_1h_above"); perMillion(row.ratesAbove?.cacheWrite1h)
        key("batch_input_above"); perMillion(row.batchInputAbove)
        key("batch_output_above"); perMillion(row.batchOutputAbove)
        key("batch_cached_input_above"); perMillion(row.batchCachedInputAbove)
        key("request_fee")
        if let fee = row.requestFee { usd(picodollars: fee.picodollars * 1_000) } else { null() }
        key("retired")
        if let retired = row.retired { string(RFC3339.format(milliseconds: retired)) } else { null() }
        key("retrieved"); string(row.retrieved)
        key("source"); string(row.source)
        key("origin"); string(entry.origin)
        key("updated_at"); string(RFC3339.format(milliseconds: entry.updatedAt))
        endObject()
    }
}
