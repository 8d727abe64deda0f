/// One proxied request as stored: metadata, usage, redacted headers and the bodies as sent and received.
///
/// Times are integers: `createdAt` in Unix milliseconds, durations in microseconds. Token counts are optional:
/// `nil` means the provider did not report them (e.g. a stream without usage), never zero.
public struct LogRecord: Sendable, Equatable {
    public var id: LogID
    /// Request start, Unix milliseconds (UTC).
    public var createdAt: Int64
    public var account: String
    public var gateway: String
    public var provider: String
    /// From the request body's `model`, else the response's.
    public var model: String?
    /// The path forwarded to the provider, after `/v1/{account}/{gateway}/{provider}`, with the query string
    /// (secrets removed), e.g. `/chat/completions`.
    public var path: String
    public var method: String
    /// Status sent to the client (the upstream's, or the gateway's own 502/504).
    public var statusCode: Int
    public var success: Bool
    public var stream: Bool
    /// Request start to the last byte sent to the client.
    public var durationMicros: Int64
    /// Request start to the first upstream body byte; nil when no body byte came.
    public var ttftMicros: Int64?

    public var usage: Usage

    public var requestSize: Int64
    public var responseSize: Int64
    public var error: String?
    /// From the `cf-aig-metadata` header: at most 5 entries, kept in the client's order.
    public var metadata: [MetadataEntry]

    /// Headers with secrets removed (see `HeaderRedaction`), names lowercased.
    public var requestHeaders: HeaderList
    public var responseHeaders: HeaderList
    public var requestBody: [UInt8]
    public var responseBody: [UInt8]
    /// False when the payload (headers and bodies) was not kept (`cf-aig-collect-log-payload: false`).
    public var payloadStored: Bool
    /// The client's own price for this request (`cf-aig-custom-cost`), which overrides the price table.
    public var customCost: CustomCost?
    /// False for a usage record: a request whose log is not kept (`cf-aig-collect-log: false`, a gateway that does
    /// not collect logs, a log quota used up) still counts in usage, costs and reports, so its usage — times,
    /// gateway, provider, model, status, tokens — is stored, without payload, and is never listed as a log nor
    /// counted against the log quota.
    public var logged: Bool
    /// The event this request's attempt belongs to (`cf-aig-event-id`), when it is not this log's own id: the
    /// client's event id, or the first attempt's log id on a retry or a later fallback step. nil: the log is the
    /// first attempt of its own event, whose id is the event id.
    public var eventID: String?
    /// 1 for the first try at a provider; counts up across retries and the universal endpoint's steps.
    public var attempt: Int
    /// The universal endpoint's step (0-based) this attempt belongs to; nil for a request on a provider path.
    public var step: Int?
    /// Answered from the gateway's response cache: no provider was called, the usage is the cached response's, and
    /// the request costs 0 (what it would have cost is what it saved).
    public var cached: Bool
    /// The gateway refused the request before calling a provider (status 429): a usage record only, costing 0.
    public var refusal: GatewayRefusal?

    /// The event id this log answers to: `eventID`, or its own id when it started its event.
    public var effectiveEventID: String { eventID ?? id.description }
}

extension LogRecord {
    /// A record with every field but `refusal` (set afterwards, as the gateway's refusals do). Built by the
    /// memberwise initializer the compiler writes (the declaration above has none of its own): an initializer
    /// that set each field itself left a copy of the whole record at its end, every text retained and released
    /// again — once for every record made from an exchange or read back from a segment.
    public init(
        id: LogID, createdAt: Int64, account: String, gateway: String, provider: String, model: String?,
        path: String, method: String, statusCode: Int, success: Bool, stream: Bool,
        durationMicros: Int64, ttftMicros: Int64?, usage: Usage = Usage(),
        requestSize: Int64, responseSize: Int64, error: String? = nil, metadata: [MetadataEntry] = [],
        requestHeaders: HeaderList = [], responseHeaders: HeaderList = [],
        requestBody: [UInt8] = [], responseBody: [UInt8] = [], payloadStored: Bool = true,
        customCost: CustomCost? = nil, logged: Bool = true, eventID: String? = nil, attempt: Int = 1,
        step: Int? = nil, cached: Bool = false
    ) {
        self.init(
            id: id, createdAt: createdAt, account: account, gateway: gateway, provider: provider, model: model,
            path: path, method: method, statusCode: statusCode, success: success, stream: stream,
            durationMicros: durationMicros, ttftMicros: ttftMicros, usage: usage, requestSize: requestSize,
            responseSize: responseSize, error: error, metadata: metadata, requestHeaders: requestHeaders,
            responseHeaders: responseHeaders, requestBody: requestBody, responseBody: responseBody,
            payloadStored: payloadStored, customCost: customCost, logged: logged, eventID: eventID, attempt: attempt,
            step: step, cached: cached, refusal: nil)
    }
}

/// A header as stored: lowercased name and value.
public struct Header: Sendable, Equatable, Hashable {
    public var name: String
    public var value: String
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}

/// One `cf-aig-metadata` entry.
public struct MetadataEntry: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case string(String)
        case number(Double)
        case bool(Bool)
    }
    public var key: String
    public var value: Value
    public init(_ key: String, _ value: Value) {
        self.key = key
        self.value = value
    }
}

/// Token usage as the provider reported it, normalised across providers.
///
/// - `tokensIn`: every input token, cache reads and writes included.
/// - `cachedTokensIn`: input tokens read from the provider's prompt cache.
/// - `cacheWriteTokens`: input tokens written to the cache (Anthropic, or OpenAI-style `cache_write_tokens`);
///   `cacheWrite1hTokens` is the part of them written with Anthropic's 1-hour TTL (the rest is 5-minute).
/// - `tokensOut`: every output token, reasoning included; `reasoningTokens` is that part.
/// Any field is nil when the provider did not report it.
public struct Usage: Sendable, Equatable {
    public var tokensIn: Int64?
    public var cachedTokensIn: Int64?
    public var cacheWriteTokens: Int64?
    public var cacheWrite1hTokens: Int64?
    public var tokensOut: Int64?
    public var reasoningTokens: Int64?
    /// The service tier the provider says it used (OpenAI `service_tier`), if any.
    public var serviceTier: String?

    public init(
        tokensIn: Int64? = nil, cachedTokensIn: Int64? = nil, cacheWriteTokens: Int64? = nil,
        cacheWrite1hTokens: Int64? = nil, tokensOut: Int64? = nil, reasoningTokens: Int64? = nil,
        serviceTier: String? = nil
    ) {
        self.tokensIn = tokensIn
        self.cachedTokensIn = cachedTokensIn
        self.cacheWriteTokens = cacheWriteTokens
        self.cacheWrite1hTokens = cacheWrite1hTokens
        self.tokensOut = tokensOut
        self.reasoningTokens = reasoningTokens
        self.serviceTier = serviceTier
    }

    /// True when the provider reported no token counts at all.
    public var isUnknown: Bool { tokensIn == nil && tokensOut == nil }
}
