import TollgateModel

/// A `cf-aig-*` header the gateway reads from a request or writes on a response: its name, the values it takes and
/// what it does.
///
/// The one declaration of these headers: the proxy's parsers and writers name them through these constants, and the
/// README's header table is written from `all` (`tollgate reference headers`; a test compares the two), so the
/// documentation cannot list a header the code does not know, or miss one.
public struct GatewayHeader: Sendable {
    /// Which way the header travels.
    public enum Direction: String, Sendable {
        case request, response
    }

    /// The header's name, lowercase.
    public let name: String
    /// The same, for the proxy's byte comparisons.
    let literal: StaticString
    public let direction: Direction
    /// What values it takes (request) or carries (response).
    public let values: String
    public let summary: String

    // Request headers.
    public static let authorization = GatewayHeader(
        "cf-aig-authorization", .request, "`Bearer <token>`",
        "an account token; required on a gateway with `authentication` on")
    public static let metadata = GatewayHeader(
        MetadataHeader.name, .request, "JSON object, at most 5 string, number or boolean values",
        "stored with the log, filtered on, usable as a rate or spend limit key")
    public static let customCost = GatewayHeader(
        CustomCostHeader.name, .request, "`{\"per_token_in\",\"per_token_out\"}` or `{\"total_cost\"}`, USD",
        "prices this request instead of the price list")
    public static let collectLog = GatewayHeader(
        "cf-aig-collect-log", .request, "`false`", "keep no log of this request (its usage is still counted)")
    public static let collectLogPayload = GatewayHeader(
        "cf-aig-collect-log-payload", .request, "`false`", "keep the log without headers and bodies")
    public static let eventID = GatewayHeader(
        "cf-aig-event-id", .request, "1–128 visible ASCII characters",
        "the event the request's attempts share (default: the first attempt's log id)")
    public static let byokAlias = GatewayHeader(
        "cf-aig-byok-alias", .request, "an alias", "which stored provider key to use (default `default`)")
    public static let skipCache = GatewayHeader(
        "cf-aig-skip-cache", .request, "`true` or `false`", "neither read nor write the response cache")
    public static let cacheTTL = GatewayHeader(
        "cf-aig-cache-ttl", .request,
        "seconds, \(RequestControls.cacheTTLRange.lowerBound)–\(RequestControls.cacheTTLRange.upperBound)",
        "cache this response for that long")
    public static let cacheKey = GatewayHeader(
        "cf-aig-cache-key", .request, "1–256 characters",
        "the cache key instead of the request's hash (\(RequestControls.defaultKeyedTTL) s when no TTL is set)")
    public static let maxAttempts = GatewayHeader(
        "cf-aig-max-attempts", .request, "1–\(RetryPolicy.maximumAttempts)", "attempts in all (retries + 1)")
    public static let retryDelay = GatewayHeader(
        "cf-aig-retry-delay", .request, "milliseconds, 0–\(RetryPolicy.maximumDelay)", "before the first retry")
    public static let backoff = GatewayHeader(
        "cf-aig-backoff", .request, "`constant`, `linear` or `exponential`", "how the retry delay grows")
    public static let requestTimeout = GatewayHeader(
        "cf-aig-request-timeout", .request,
        "milliseconds, \(RequestControls.requestTimeoutRange.lowerBound)–\(RequestControls.requestTimeoutRange.upperBound)",
        "time to the first response byte")

    // Response headers.
    public static let logID = GatewayHeader(
        "cf-aig-log-id", .response, "a log id (UUIDv7)", "the log of the attempt that answered")
    public static let logStatus = GatewayHeader(
        "cf-aig-log-status", .response, "e.g. `quota_exceeded`", "why no log was kept, when none was")
    public static let step = GatewayHeader(
        "cf-aig-step", .response, "0-based step", "which step of a universal request answered")
    public static let cacheStatus = GatewayHeader(
        "cf-aig-cache-status", .response, "`HIT` or `MISS`", "whether the response came from the cache")
    public static let eventIDEcho = GatewayHeader(
        eventID.literal, .response, "the request's event id", "sent back whenever the request has one")

    /// Every header, requests' first, in the order the README lists them.
    public static let all: [GatewayHeader] = [
        authorization, metadata, customCost, collectLog, collectLogPayload, eventID, byokAlias, skipCache, cacheTTL,
        cacheKey, maxAttempts, retryDelay, backoff, requestTimeout, logID, eventIDEcho, logStatus, step, cacheStatus,
    ]

    init(_ literal: StaticString, _ direction: Direction, _ values: String, _ summary: String) {
        self.literal = literal
        self.name = "\(literal)"
        self.direction = direction
        self.values = values
        self.summary = summary
    }

    /// The README's table of the headers.
    public static func markdownTable() -> String {
        var out = "| header | direction | values | what it does |\n| --- | --- | --- | --- |\n"
        for header in all {
            out += "| `\(header.name)` | \(header.direction.rawValue) | \(header.values) | \(header.summary) |\n"
        }
        return out
    }
}
