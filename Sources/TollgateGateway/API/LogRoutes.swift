import Foundation
import Hummingbird
import NIOCore
import TollgateModel
import TollgateStorage

/// `/api/v1/accounts/{account}/logs`: list with filters and cursor, one log's fields and headers, its bodies,
/// human feedback on a log; delete by the same filters or by id.
struct LogRoutes<Context: RequestContext> {
    let api: APIServices

    func register(on group: RouterGroup<Context>) {
        group.on(.listLogs, prefix: Route.apiPrefix) { _, context, input in try await list(input, context) }
        group.on(.getLog, prefix: Route.apiPrefix) { _, context, _ in try await detail(context) }
        group.on(.getLogRequest, prefix: Route.apiPrefix) { _, context, _ in try await body(context, response: false) }
        group.on(.getLogResponse, prefix: Route.apiPrefix) { _, context, _ in try await body(context, response: true) }
        group.on(.deleteLogs, prefix: Route.apiPrefix) { _, context, input in try await deleteMatching(input, context) }
        group.on(.deleteLog, prefix: Route.apiPrefix) { _, context, _ in try await deleteOne(context) }
        group.on(.patchLog, prefix: Route.apiPrefix) { _, context, input in try await annotate(input.body, context) }
    }

    /// The listing filters of a request (`Route.logFilters`), and whether it gave any.
    private func filtered(_ q: RouteInput.Values, account: String) throws -> (query: LogQuery, any: Bool) {
        var query = LogQuery(account: account)
        query.gateway = q.text("gateway")
        query.provider = q.text("provider")
        query.model = q.text("model")
        query.statusCode = q.integer("status_code").map { Int($0) }
        query.success = q.bool("success")
        query.stream = q.bool("stream")
        query.from = q.instant("from")
        query.to = q.instant("to")
        if let from = query.from, let to = query.to, from >= to {
            throw APIError.badParameter("to", "must be later than from")
        }
        return (query, Route.logFilters.contains { q.contains($0.name) })
    }

    private func list(_ input: RouteInput, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let q = input.query
        var query = try filtered(q, account: account.id).query
        query.cached = q.bool("cached")
        query.feedback = q.text("feedback").flatMap { Int($0) }
        query.eventID = q.text("event_id")
        query.metadata = q.prefixedTexts("metadata.")
        query.order = q.text("order") == "asc" ? .ascending : .descending
        query.limit = q.integer("limit").map { Int($0) } ?? 50
        query.cursor = q.text("cursor")
        let page = try await api.blocking { [query] in try api.catalog.listLogs(query) }
        return json {
            $0.beginObject()
            $0.key("logs")
            $0.beginArray()
            for entry in page.entries { $0.logFields(entry, closeObject: true) }
            $0.endArray()
            $0.key("next_cursor")
            $0.string(page.nextCursor)
            $0.endObject()
        }
    }

    /// `DELETE …/logs?filters`: deletes the matching logs from the index (in bounded batches on the thread pool);
    /// they are gone from the API when the response is sent, their content leaves the segments at the next
    /// compaction. `{"deleted": N}`. Without a filter it takes `all=true`, so a misspelled or forgotten filter
    /// never deletes every log.
    private func deleteMatching(_ input: RouteInput, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let (query, anyFilter) = try filtered(input.query, account: account.id)
        switch (anyFilter, input.query.bool("all")) {
        case (false, true?): break
        case (false, _):
            throw APIError.badParameter(
                "all",
                "deleting every log of the account takes all=true; or give a filter: "
                    + Route.Field.names(Route.logFilters))
        case (true, nil): break
        case (true, _?): throw APIError.badParameter("all", "cannot be combined with filters")
        }
        let deleted = try await api.blocking {
            let deleted = try api.catalog.deleteLogs(matching: query)
            try api.quota.refresh(account: account.id)
            return deleted
        }
        return json {
            $0.beginObject()
            $0.key("deleted")
            $0.int(deleted)
            $0.endObject()
        }
    }

    /// `DELETE …/logs/{id}`: `{"deleted": 1}`, or 404 when the account has no such log.
    private func deleteOne(_ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let text = try context.parameters.require("id")
        guard let id = LogID(text),
            try await api.blocking({
                let deleted = try api.catalog.deleteLog(account: account.id, id: id)
                if deleted { try api.quota.refresh(account: account.id) }
                return deleted
            })
        else { throw APIError.notFound("log \(text)") }
        return json {
            $0.beginObject()
            $0.key("deleted")
            $0.int(1)
            $0.endObject()
        }
    }

    private func lookup(_ context: Context) async throws -> (entry: LogIndexEntry, record: LogRecord) {
        let account = try await api.requireAccount(context)
        return try await Self.lookup(api, account: account.id, id: try context.parameters.require("id"))
    }

    /// The log `text` names, with its record; 404 when the account has no such log. Shared with the
    /// Cloudflare-compatible routes.
    static func lookup(_ api: APIServices, account: String, id text: String) async throws
        -> (entry: LogIndexEntry, record: LogRecord)
    {
        guard let id = LogID(text) else { throw APIError.notFound("log \(text)") }
        guard let found = try await api.blocking({ try api.store.lookup(account: account, id: id) }) else {
            throw APIError.notFound("log \(text)")
        }
        return found
    }

    /// A stored request or response body as sent, with its content type; 404 `payload_not_stored` without one.
    static func payload(_ record: LogRecord, response: Bool) throws -> Response {
        guard record.payloadStored else {
            throw APIError(.notFound, code: "payload_not_stored", message: "this log was stored without its payload")
        }
        let headers = response ? record.responseHeaders : record.requestHeaders
        let contentType = headers.first(where: { $0.name == "content-type" })?.value ?? "application/octet-stream"
        let bytes = response ? record.responseBody : record.requestBody
        return Response(
            status: .ok,
            headers: [.contentType: contentType],
            body: .init(byteBuffer: ByteBuffer(bytes: bytes))
        )
    }

    private func detail(_ context: Context) async throws -> Response {
        let (entry, record) = try await lookup(context)
        return json {
            $0.logFields(entry, closeObject: false)
            $0.key("request_headers")
            $0.headers(record.requestHeaders)
            $0.key("response_headers")
            $0.headers(record.responseHeaders)
            $0.endObject()
        }
    }

    /// `PATCH …/logs/{id}`: human feedback on a log, as Cloudflare AI Gateway's "Patch Gateway Log"
    /// (`PATCH /accounts/{account_id}/ai-gateway/gateways/{gateway_id}/logs/{id}`, body `feedback`, `score`,
    /// `metadata`, each optional; developers.cloudflare.com/api/resources/ai_gateway/subresources/logs/methods/edit
    /// and /ai-gateway/evaluations/add-human-feedback-bindings). Cloudflare's API reference gives `feedback` as a number from -1 to 1, `score` from
    /// 0 to 100 and `metadata` as a map of string, number or boolean values; its Workers binding (`patchLog`) says
    /// -1 is negative, 1 positive and 0 "not evaluated", and its types let each field be null. Neither says whether
    /// `metadata` merges: the call "updates metadata for a log entry", so here a field the body names replaces that
    /// field and one it leaves out stays as it was:
    /// - `feedback`: -1 or 1; 0 or null clear it (not evaluated).
    /// - `score`: a whole number 0…100; null clears it.
    /// - `metadata`: an object of at most 5 string, number or boolean values (the request header's limit) that
    ///   replaces the request's `cf-aig-metadata` in what the log shows and what `metadata.<key>` filters match;
    ///   null goes back to the request's own. The request's metadata stays in the record.
    /// The body names at least one field. Answers the log as `GET` does; 404 for a log the account does not have.
    private func annotate(_ body: RouteInput.Values, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        try await Self.annotate(api, account: account.id, id: try context.parameters.require("id"), body)
        return try await detail(context)
    }

    /// Applies a feedback body (`Route.patchLog`'s fields) to the log `text` names; 404 when the account has no
    /// such log. Shared with the Cloudflare-compatible routes.
    static func annotate(_ api: APIServices, account: String, id text: String, _ body: RouteInput.Values)
        async throws
    {
        let fields = ["feedback", "score", "metadata"]
        guard fields.contains(where: body.contains) else {
            throw APIError(
                .badRequest, code: "invalid_body", message: "expected at least one of \(fields.joined(separator: ", "))"
            )
        }
        let metadata = try body.jsonSetting("metadata").map { try $0.map(Self.annotationMetadata) }
        guard let id = LogID(text) else { throw APIError.notFound("log \(text)") }
        let now = api.now()
        // The fields the body names change in the transaction that reads the others, so concurrent PATCHes of
        // different fields all hold.
        let updated = try await api.blocking {
            try api.catalog.annotateLog(account: account, id: id, at: now) { annotation in
                if let feedback = body.integerSetting("feedback") {
                    annotation.feedback = feedback.flatMap { $0 == 0 ? nil : Int($0) }
                }
                if let score = body.integerSetting("score") { annotation.score = score.map { Int($0) } }
                if let metadata { annotation.metadata = metadata }
            }
        }
        guard updated != nil else { throw APIError.notFound("log \(text)") }
    }

    /// The `metadata` of a PATCH body: at most 5 entries, each a string, a number or a boolean; keys in name order.
    static func annotationMetadata(_ json: JSONValue) throws -> [MetadataEntry] {
        guard case .object(let object) = json else { throw APIError.badParameter("metadata", "expected a JSON object") }
        guard object.count <= 5 else {
            throw APIError.badParameter("metadata", "at most 5 entries, as in cf-aig-metadata; got \(object.count)")
        }
        return try object.keys.sorted().map { key in
            guard !key.isEmpty else { throw APIError.badParameter("metadata", "a key is empty") }
            switch object[key]! {
            case .string(let text): return MetadataEntry(key, .string(text))
            case .number(let number): return MetadataEntry(key, .number(number))
            case .bool(let flag): return MetadataEntry(key, .bool(flag))
            default:
                throw APIError.badParameter("metadata.\(key)", "expected a string, a number or a boolean")
            }
        }
    }

    private func body(_ context: Context, response: Bool) async throws -> Response {
        try Self.payload(try await lookup(context).record, response: response)
    }
}

extension Route {
    /// The filters that select logs, for listing and deleting.
    static let logFilters: [Field] = [
        Field("gateway", .identifier, "gateway id"),
        Field("provider", .text, "provider slug, e.g. `openai`"),
        Field("model", .text, "model as the provider named it"),
        Field("status_code", .integer(100...599), "HTTP status the client got"),
        Field("success", .boolean, "2xx or not"),
        Field("stream", .boolean, "streamed responses"),
        Field("from", .timestamp, "created at or after"),
        Field("to", .timestamp, "created before"),
    ]
    static let listLogs = Route(
        .get, "/api/v1/accounts/{account}/logs",
        "The account's logs, newest first, a page at a time: `{\"logs\":[…],\"next_cursor\":…}`.",
        query: logFilters + [
            Field("cached", .boolean, "answered from the gateway's cache, or not"),
            Field("feedback", .choice(["-1", "1"]), "the feedback patched onto the log"),
            Field("event_id", .text, "the logs of one event (`cf-aig-event-id`): every attempt of one request"),
            .prefixed(
                "metadata.", .text,
                "logs whose metadata (patched, else the request's) has this key with this value (booleans `true` or "
                    + "`false`, numbers as shown)"),
            Field("order", .choice(["asc", "desc"]), "by creation time (default `desc`)"),
            Field("limit", .integer(1...1000), "logs per page (default 50)"),
            Field("cursor", .text, "`next_cursor` of the previous page"),
        ])
    static let getLog = Route(
        .get, "/api/v1/accounts/{account}/logs/{id}", "One log's fields with its stored headers.")
    static let getLogRequest = Route(
        .get, "/api/v1/accounts/{account}/logs/{id}/request", "The request body as sent, with its content type.")
    static let getLogResponse = Route(
        .get, "/api/v1/accounts/{account}/logs/{id}/response", "The response body as received, with its content type.")
    static let deleteLogs = Route(
        .delete, "/api/v1/accounts/{account}/logs",
        "Deletes the logs matching the filters: `{\"deleted\":N}`. With no filter it takes `all=true`.",
        query: logFilters + [Field("all", .boolean, "`true` to delete every log of the account; not with filters")])
    static let patchLog = Route(
        .patch, "/api/v1/accounts/{account}/logs/{id}",
        "Human feedback on a log, as Cloudflare's: sets what the body names (null clears it); answers the log.",
        body: [
            Field(
                "feedback", .integer(-1...1), "`-1` negative, `1` positive; `0` or null: not evaluated", nullable: true),
            Field("score", .integer(0...100), "a score of the answer; null clears it", nullable: true),
            Field(
                "metadata", .object,
                "at most 5 string, number or boolean values shown (and filtered on) instead of the request's "
                    + "`cf-aig-metadata`; null: the request's again",
                nullable: true),
        ])
    static let deleteLog = Route(
        .delete, "/api/v1/accounts/{account}/logs/{id}", "Deletes one log: `{\"deleted\":1}`, 404 when absent.")
}

extension JSONWriter: LogFieldWriter {
    /// The log's fields (`LogField.shown`), by their API names. Leaves the object open when `closeObject` is false so
    /// the caller can append more keys.
    mutating func logFields(_ e: LogIndexEntry, closeObject: Bool) {
        beginObject()
        for field in LogField.shown {
            key(field.name)
            field.write(e, to: &self)
        }
        if closeObject { endObject() }
    }

    mutating func metadata(_ entries: [MetadataEntry]) {
        beginObject()
        for entry in entries {
            key(entry.key)
            switch entry.value {
            case .string(let s): string(s)
            case .number(let n): double(n)
            case .bool(let b): bool(b)
            }
        }
        endObject()
    }

    mutating func logID(_ id: LogID) { string(id.description) }
    mutating func timestamp(milliseconds: Int64) { string(RFC3339.format(milliseconds: milliseconds)) }
    mutating func text(_ value: String?) { string(value) }
    mutating func integer(_ value: Int64?) { int(value) }
    mutating func flag(_ value: Bool) { bool(value) }
    mutating func duration(micros: Int64?) { millis(fromMicros: micros) }
    mutating func money(picodollars: Int64?) { usd(picodollars: picodollars.map { Int128($0) }) }

    mutating func headers(_ headers: HeaderList) {
        beginObject()
        for header in headers {
            key(header.name)
            string(header.value)
        }
        endObject()
    }
}
