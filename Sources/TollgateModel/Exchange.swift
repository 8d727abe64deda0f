/// What the proxy saw of one request/response exchange, raw: headers unredacted, nothing parsed.
///
/// The proxy fills this on the event loop: byte copies of the bodies when their log keeps them, and what it read of
/// the bodies as they passed (`requestSummary`, `responseUsage`). Turning it into a `LogRecord` (redaction, and
/// parsing of whatever was not read already) happens off the hot path, in the ingest stage
/// (`LogRecord.init(exchange:providers:)`).
public struct Exchange: Sendable {
    public var id: LogID
    /// Request start, Unix milliseconds.
    public var startedAt: Int64
    public var account: String
    public var gateway: String
    public var provider: String
    public var method: String
    /// Path after the provider segment, starting with `/`, without the query string.
    public var path: String
    /// Raw query string without the `?`, or nil.
    public var query: String?
    public var requestHeaders: [(name: String, value: String)]
    public var requestBody: [UInt8]
    /// Status sent to the client.
    public var statusCode: Int
    /// As they came from the upstream (or as the gateway answered), unredacted, packed as `HeaderList` packs them.
    public var responseHeaders: HeaderList
    public var responseBody: [UInt8]
    /// Total body bytes sent to the client; may exceed `responseBody.count` if capture was truncated.
    public var responseSize: Int64
    public var requestSize: Int64
    public var durationMicros: Int64
    public var ttftMicros: Int64?
    /// Set when the exchange failed at the gateway: upstream unreachable, timeout, stream cut off.
    public var error: String?
    public var metadata: [MetadataEntry]
    /// False when only metadata should be stored (`cf-aig-collect-log-payload: false`).
    public var collectPayload: Bool
    /// False when no log is kept — `cf-aig-collect-log: false`, a gateway that does not collect logs, or the
    /// account's log quota used up: the exchange still becomes a usage record (see `LogRecord.logged`).
    public var logged: Bool
    /// True when the log holds a reservation of the account's monthly log quota (see the gateway's `LogQuota`),
    /// which the ingest stage turns into a stored log or gives back.
    public var quotaReserved: Bool
    /// The request body's `model` and `stream`, read as it passed; nil: read them from `requestBody`.
    public var requestSummary: RequestSummary?
    /// The response's usage and model, read as it passed; nil: read them from `responseBody`.
    public var responseUsage: ResponseUsage?
    /// The event this exchange belongs to (`cf-aig-event-id`: the client's, or the first attempt's log id): every
    /// attempt of one request, retries and fallback steps, shares it. nil: the exchange is its own event.
    public var eventID: String?
    /// 1 for the first try at a provider; counts up across retries and the universal endpoint's steps.
    public var attempt = 1
    /// The universal endpoint's step (0-based) this attempt belongs to; nil for a request on a provider path.
    public var step: Int?
    /// Answered from the response cache: no provider was called. The usage is the cached response's; its cost is
    /// what the request saved.
    public var cached = false
    /// The gateway refused the request before calling a provider; the exchange is a usage record only.
    public var refusal: GatewayRefusal?
    /// For an account's custom provider: the API family it declared, in place of the provider table's (nil for a
    /// built-in provider, or a custom one declared with `none`).
    public var declaredAPI: Provider.API?
    /// False for a custom provider declared with `none`: no usage is read from its responses (the request is still
    /// logged and counted, unpriced).
    public var readsUsage = true
}

extension Exchange {
    /// Built by the memberwise initializer the compiler writes (the declaration above has none of its own): an
    /// initializer that sets each field itself left a copy of the whole value at its end in the caller, every
    /// field retained and released again. A refusal is set afterwards (`refusal`).
    public init(
        id: LogID, startedAt: Int64, account: String, gateway: String, provider: String, method: String,
        path: String, query: String?, requestHeaders: [(name: String, value: String)], requestBody: [UInt8],
        statusCode: Int, responseHeaders: HeaderList, responseBody: [UInt8],
        responseSize: Int64, requestSize: Int64, durationMicros: Int64, ttftMicros: Int64?, error: String?,
        metadata: [MetadataEntry] = [], collectPayload: Bool = true, logged: Bool = true, quotaReserved: Bool = false,
        requestSummary: RequestSummary? = nil, responseUsage: ResponseUsage? = nil, eventID: String? = nil,
        attempt: Int = 1, step: Int? = nil, cached: Bool = false, declaredAPI: Provider.API? = nil,
        readsUsage: Bool = true
    ) {
        self.init(
            id: id, startedAt: startedAt, account: account, gateway: gateway, provider: provider, method: method,
            path: path, query: query, requestHeaders: requestHeaders, requestBody: requestBody, statusCode: statusCode,
            responseHeaders: responseHeaders, responseBody: responseBody, responseSize: responseSize,
            requestSize: requestSize, durationMicros: durationMicros, ttftMicros: ttftMicros, error: error,
            metadata: metadata, collectPayload: collectPayload, logged: logged, quotaReserved: quotaReserved,
            requestSummary: requestSummary, responseUsage: responseUsage, eventID: eventID, attempt: attempt,
            step: step, cached: cached, refusal: nil, declaredAPI: declaredAPI, readsUsage: readsUsage)
    }
}

/// Why the gateway answered a request itself, without calling a provider.
public enum GatewayRefusal: String, Sendable, Hashable, CaseIterable {
    /// Over the gateway's rate limit (429 `rate_limited`).
    case rateLimited = "rate_limited"
    /// A spend limit rule's budget is used up (429 `spend_limit_exceeded`).
    case spendLimitExceeded = "spend_limit_exceeded"
}
