import TollgateModel

/// The fields of a log as the API shows them (`GET …/logs`) and `tollgate export` writes them: one declaration of
/// each field's name (the API's JSON key, the export's CSV column and NDJSON key), of where it appears, and of how
/// its value is read from a `LogIndexEntry`. The API's JSON and the export's writer both go through it in order.
///
/// The cases are in the API's order. The export writes a subset in nearly the same order (`exported`).
public enum LogField: CaseIterable, Sendable {
    case id, createdAt, account, gateway, provider, model, path, method, statusCode, success, stream, durationMs
    case ttftMs, tokensIn, cachedTokensIn, cacheWriteTokens, cacheWrite1hTokens, tokensOut, reasoningTokens
    case serviceTier, cost, customCost, requestSize, responseSize, error, metadata, payloadStored, eventID, attempt
    case step, cached, saved, feedback, score

    /// The field's name: its key in the API's JSON and in an NDJSON export, its column in a CSV export.
    public var name: String {
        switch self {
        case .id: "id"
        case .createdAt: "created_at"
        case .account: "account"
        case .gateway: "gateway"
        case .provider: "provider"
        case .model: "model"
        case .path: "path"
        case .method: "method"
        case .statusCode: "status_code"
        case .success: "success"
        case .stream: "stream"
        case .durationMs: "duration_ms"
        case .ttftMs: "ttft_ms"
        case .tokensIn: "tokens_in"
        case .cachedTokensIn: "cached_tokens_in"
        case .cacheWriteTokens: "cache_write_tokens"
        case .cacheWrite1hTokens: "cache_write_1h_tokens"
        case .tokensOut: "tokens_out"
        case .reasoningTokens: "reasoning_tokens"
        case .serviceTier: "service_tier"
        case .cost: "cost"
        case .customCost: "custom_cost"
        case .requestSize: "request_size"
        case .responseSize: "response_size"
        case .error: "error"
        case .metadata: "metadata"
        case .payloadStored: "payload_stored"
        case .eventID: "event_id"
        case .attempt: "attempt"
        case .step: "step"
        case .cached: "cached"
        case .saved: "saved"
        case .feedback: "feedback"
        case .score: "score"
        }
    }

    /// Written by `tollgate export`, whose rows are the log's metadata for other tools: not the body sizes, the
    /// request's metadata or whether the payload was stored, which only the API shows.
    public var isExported: Bool {
        switch self {
        case .requestSize, .responseSize, .metadata, .payloadStored: false
        default: true
        }
    }

    /// The API's fields, in order.
    public static let shown = allCases

    /// The export's columns, in order: the exported fields in the API's order, except that the export has always
    /// written the method before the path and the API the path before the method. Both orders are published (CSV
    /// headers, API clients), so each keeps its own.
    public static let exported: [LogField] = allCases.filter(\.isExported).map {
        switch $0 {
        case .path: .method
        case .method: .path
        default: $0
        }
    }

    /// Hands the field's value in `entry` to `writer`, as the kind of value it is.
    @inline(__always)
    public func write<Writer: LogFieldWriter & ~Copyable>(_ entry: LogIndexEntry, to writer: inout Writer) {
        switch self {
        case .id: writer.logID(entry.id)
        case .createdAt: writer.timestamp(milliseconds: entry.createdAt)
        case .account: writer.text(entry.account)
        case .gateway: writer.text(entry.gateway)
        case .provider: writer.text(entry.provider)
        case .model: writer.text(entry.model)
        case .path: writer.text(entry.path)
        case .method: writer.text(entry.method)
        case .statusCode: writer.integer(Int64(entry.statusCode))
        case .success: writer.flag(entry.success)
        case .stream: writer.flag(entry.stream)
        case .durationMs: writer.duration(micros: entry.durationMicros)
        case .ttftMs: writer.duration(micros: entry.ttftMicros)
        case .tokensIn: writer.integer(entry.usage.tokensIn)
        case .cachedTokensIn: writer.integer(entry.usage.cachedTokensIn)
        case .cacheWriteTokens: writer.integer(entry.usage.cacheWriteTokens)
        case .cacheWrite1hTokens: writer.integer(entry.usage.cacheWrite1hTokens)
        case .tokensOut: writer.integer(entry.usage.tokensOut)
        case .reasoningTokens: writer.integer(entry.usage.reasoningTokens)
        case .serviceTier: writer.text(entry.usage.serviceTier)
        case .cost: writer.money(picodollars: entry.cost)
        case .customCost: writer.flag(entry.customCost)
        case .requestSize: writer.integer(entry.requestSize)
        case .responseSize: writer.integer(entry.responseSize)
        case .error: writer.text(entry.error)
        case .metadata: writer.metadata(entry.shownMetadata)
        case .payloadStored: writer.flag(entry.payloadStored)
        case .eventID: writer.text(entry.effectiveEventID)
        case .attempt: writer.integer(Int64(entry.attempt))
        case .step: writer.integer(entry.step.map { Int64($0) })
        case .cached: writer.flag(entry.cached)
        case .saved: writer.money(picodollars: entry.saved)
        case .feedback: writer.integer(entry.annotation?.feedback.map { Int64($0) })
        case .score: writer.integer(entry.annotation?.score.map { Int64($0) })
        }
    }
}

/// A format a log's fields are written in (the API's JSON, the export's CSV or NDJSON): how it writes each kind of
/// value `LogField.write` hands it. nil is a field without a value.
public protocol LogFieldWriter: ~Copyable {
    /// Lowercase and hyphenated, as `LogID.description`.
    mutating func logID(_ id: LogID)
    /// Unix milliseconds, written as RFC 3339 (`RFC3339.format(milliseconds:)`).
    mutating func timestamp(milliseconds: Int64)
    mutating func text(_ value: String?)
    mutating func integer(_ value: Int64?)
    mutating func flag(_ value: Bool)
    /// Microseconds, written as milliseconds with up to three decimals.
    mutating func duration(micros: Int64?)
    /// Picodollars, written as USD at full precision.
    mutating func money(picodollars: Int64?)
    /// The metadata the API shows, as an object.
    mutating func metadata(_ entries: [MetadataEntry])
}
