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
        group.get("prices") { request, _ in try await list(request, account: "") }
        group.post("prices") { request, context in try await upsert(request, context, account: "") }
        group.delete("prices") { request, _ in try await delete(request, account: "") }
        group.get("accounts/:account/prices") { request, context in
            try await list(request, account: api.requireAccount(context).id)
        }
        group.post("accounts/:account/prices") { request, context in
            try await upsert(request, context, account: api.requireAccount(context).id)
        }
        group.delete("accounts/:account/prices") { request, context in
            try await delete(request, account: api.requireAccount(context).id)
        }
        group.post("accounts/:account/reprice") { request, context in try await reprice(request, context) }
    }

    private func list(_ request: Request, account: String) async throws -> Response {
        let query = QueryParameters(request)
        let provider = query.string("provider")
        let model = query.string("model")
        let entries = api.ledger.prices.entries.filter {
            $0.account == account && (provider == nil || $0.row.provider == provider)
                && (model == nil || $0.row.model == model)
        }
        return jsonList("prices", entries) { $0.price($1) }
    }

    private func upsert(_ request: Request, _ context: Context, account: String) async throws -> Response {
        let body = try await JSONBody(request, context)
        let row = try body.priceRow()
        let entry = PriceBook.Entry(account: account, row: row)
        try await api.blocking { try api.ledger.prices.upsert(entry) }
        let stored = api.ledger.prices.entries.first {
            $0.account == account && $0.row.provider == row.provider && $0.row.model == row.model
                && $0.row.serviceTier == row.serviceTier && $0.row.effectiveFrom == row.effectiveFrom
        }
        return json(status: .created) { $0.price(stored ?? entry) }
    }

    private func delete(_ request: Request, account: String) async throws -> Response {
        let query = QueryParameters(request)
        guard let provider = query.string("provider") else { throw APIError.badParameter("provider", "required") }
        guard let model = query.string("model") else { throw APIError.badParameter("model", "required") }
        guard let dateText = query.string("effective_from") else {
            throw APIError.badParameter("effective_from", "required")
        }
        guard let effectiveFrom = PriceDate.parse(dateText) else {
            throw APIError.badParameter("effective_from", "expected YYYY-MM-DD or an RFC 3339 timestamp")
        }
        let tier = query.string("service_tier") ?? "default"
        let removed = try await api.blocking {
            try api.ledger.prices.delete(
                account: account, provider: provider, model: model, serviceTier: tier, effectiveFrom: effectiveFrom)
        }
        guard removed else { throw APIError.notFound("price row") }
        return Response(status: .noContent)
    }

    private func reprice(_ request: Request, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let body = try await JSONBody(request, context)
        let from = try body.date("from")
        let to = try body.date("to")
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

/// A price row's date: `YYYY-MM-DD` (midnight UTC) or an RFC 3339 timestamp.
enum PriceDate {
    static func parse(_ text: String) -> Int64? {
        if text.count == 10, let ms = RFC3339.parse(text + "T00:00:00Z") { return ms }
        return RFC3339.parse(text)
    }
}

extension JSONBody {
    /// A required date field (`YYYY-MM-DD` or RFC 3339).
    func date(_ name: String) throws -> Int64 {
        guard case .string(let text) = object[name] else {
            throw APIError.badParameter(name, "required date, YYYY-MM-DD or RFC 3339")
        }
        guard let ms = PriceDate.parse(text) else {
            throw APIError.badParameter(name, "expected YYYY-MM-DD or an RFC 3339 timestamp")
        }
        return ms
    }

    /// A USD-per-1M-tokens price: a JSON number or a decimal string, exact to 6 places.
    func price(_ name: String, required: Bool = false) throws -> Money? {
        guard let raw = object[name], raw != .null else {
            if required { throw APIError.badParameter(name, "required price in USD per 1M tokens") }
            return nil
        }
        let text: String
        switch raw {
        case .number(let value): text = "\(value)"
        case .string(let value): text = value
        default: throw APIError.badParameter(name, "expected a price in USD per 1M tokens")
        }
        guard let scaled = ExactDecimal.scaled(text, scale: 6), scaled >= 0 else {
            throw APIError.badParameter(name, "expected a non-negative price with at most 6 decimals")
        }
        return Money(picodollars: scaled)
    }

    func text(_ name: String) throws -> String? {
        guard let raw = object[name], raw != .null else { return nil }
        guard case .string(let value) = raw, !value.isEmpty else {
            throw APIError.badParameter(name, "expected a string")
        }
        return value
    }

    func priceRow() throws -> PriceRow {
        guard let provider = try text("provider") else { throw APIError.badParameter("provider", "required") }
        guard let model = try text("model") else { throw APIError.badParameter("model", "required") }
        let tier = try text("service_tier") ?? "default"
        var threshold: Int64?
        if let raw = object["prompt_threshold"], raw != .null {
            guard let value = raw.intValue, value > 0 else {
                throw APIError.badParameter("prompt_threshold", "expected a positive token count")
            }
            threshold = Int64(value)
        }
        var above: PriceRow.Rates?
        if let input = try price("input_above"), let output = try price("output_above") {
            above = PriceRow.Rates(
                input: input, output: output, cachedInput: try price("cached_input_above"),
                cacheWrite: try price("cache_write_above"), cacheWrite5m: try price("cache_write_5m_above"),
                cacheWrite1h: try price("cache_write_1h_above"))
        }
        guard (threshold == nil) == (above == nil) else {
            throw APIError.badParameter("prompt_threshold", "needs input_above and output_above, and they need it")
        }
        return PriceRow(
            provider: provider, model: model, serviceTier: tier, effectiveFrom: try date("effective_from"),
            rates: PriceRow.Rates(
                input: try price("input", required: true)!, output: try price("output") ?? .zero,
                cachedInput: try price("cached_input"), cacheWrite: try price("cache_write"),
                cacheWrite5m: try price("cache_write_5m"), cacheWrite1h: try price("cache_write_1h"),
                reasoning: try price("reasoning")),
            promptThreshold: threshold, ratesAbove: above, batchInput: try price("batch_input"),
            batchOutput: try price("batch_output"), batchCachedInput: try price("batch_cached_input"),
            batchInputAbove: try price("batch_input_above"), batchOutputAbove: try price("batch_output_above"),
            batchCachedInputAbove: try price("batch_cached_input_above"), requestFee: try requestFee(),
            retired: try optionalDate("retired"), source: try text("source") ?? "api",
            retrieved: try text("retrieved") ?? "")
    }

    /// `request_fee`: USD per 1,000 requests, exact to 9 places.
    func requestFee() throws -> Money? {
        guard let raw = object["request_fee"], raw != .null else { return nil }
        let text: String
        switch raw {
        case .number(let value): text = "\(value)"
        case .string(let value): text = value
        default: throw APIError.badParameter("request_fee", "expected a price in USD per 1,000 requests")
        }
        guard let fee = PriceRow.perRequest(usdPerThousand: text), fee.picodollars >= 0 else {
            throw APIError.badParameter("request_fee", "expected a non-negative price with at most 9 decimals")
        }
        return fee
    }

    /// An optional date field (`YYYY-MM-DD` or RFC 3339).
    func optionalDate(_ name: String) throws -> Int64? {
        guard let raw = object[name], raw != .null else { return nil }
        return try date(name)
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
