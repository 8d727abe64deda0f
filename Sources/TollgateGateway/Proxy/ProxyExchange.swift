import NIOCore
import NIOHTTP1
import TollgateModel

/// The state of one proxied request/response on the client connection's event loop, and the byte copies that
/// become its `Exchange` record.
final class ProxyExchange {
    let id: LogID
    let logID: String
    let start: NIODeadline
    let account: String
    let gateway: String
    let provider: String
    let target: UpstreamTarget
    let method: HTTPMethod
    let path: String
    let query: String?
    let requestHead: HTTPRequestHead
    /// The head sent upstream (its framing headers change when the body is rewritten).
    var upstreamHead: HTTPRequestHead
    let metadata: [MetadataEntry]
    /// Whether an exchange is submitted at all (gateway `collect_logs` and `cf-aig-collect-log`).
    let record: Bool
    let collectPayload: Bool
    /// False when only the usage is kept (no log: collection off, or the log quota used up).
    var logged = true
    /// Holds a reservation of the account's log quota (ended by the ingest stage).
    var quotaReserved = false
    /// Sent to the client as `cf-aig-log-status` when the log is not stored for a reason the client should know.
    var logStatus: StaticString?
    /// Whether the client connection stays open after this response.
    var keepClientAlive: Bool
    let captureLimit: Int

    // Request side.
    var requestBody: [UInt8] = []
    var requestSize: Int64 = 0
    var requestEnded = false
    /// Request parts received before the upstream connection was ready.
    var pending: [HTTPClientRequestPart] = []
    /// The whole request body, collected before anything is sent upstream, while it may get
    /// `stream_options.include_usage` added (see `StreamUsageOption`); nil when the body streams through.
    var heldBody: ByteBuffer?
    /// The body sent upstream when it differs from the client's (`requestBody` stays what the client sent).
    var forwardedBody: ByteBuffer?
    /// The gateway asked the upstream for stream usage: the usage-only chunk is kept from the client.
    var injectedStreamUsage = false

    // Upstream side.
    var upstream: UpstreamConnection?
    var retried = false
    var upstreamReused = false
    /// Any response byte (head or body) arrived from the upstream on the current connection.
    var upstreamResponded = false
    var upstreamKeepAlive = true
    var lastUpstreamActivity: NIODeadline
    var readTimer: Scheduled<Void>?
    /// The request end was written to the upstream.
    var requestSent = false

    // Response side.
    var responseStarted = false
    var statusCode = 0
    var responseHeaders: [(name: String, value: String)] = []
    var responseBody: [UInt8] = []
    var responseSize: Int64 = 0
    var ttftMicros: Int64?
    var finished = false
    /// Set when the response is a stream the gateway asked usage for; filters what the client receives.
    var usageFilter: StreamUsageFilter?

    init(
        id: LogID, start: NIODeadline, route: ProxyRoute, target: UpstreamTarget, requestHead: HTTPRequestHead,
        upstreamHead: HTTPRequestHead, metadata: [MetadataEntry], record: Bool, collectPayload: Bool,
        captureLimit: Int
    ) {
        self.id = id
        self.logID = id.description
        self.start = start
        self.account = String(route.account)
        self.gateway = String(route.gateway)
        self.provider = String(route.provider)
        self.target = target
        self.method = requestHead.method
        self.path = String(route.path)
        self.query = route.query.map(String.init)
        self.requestHead = requestHead
        self.upstreamHead = upstreamHead
        self.metadata = metadata
        self.record = record
        self.collectPayload = collectPayload
        self.keepClientAlive = requestHead.isKeepAlive
        self.captureLimit = captureLimit
        self.lastUpstreamActivity = start
    }

    func captureRequest(_ buffer: ByteBuffer) {
        requestSize += Int64(buffer.readableBytes)
        let room = captureLimit - requestBody.count
        if room > 0 {
            let view = buffer.readableBytesView
            requestBody.append(contentsOf: view.prefix(room))
        }
    }

    func captureResponse(_ buffer: ByteBuffer) {
        responseSize += Int64(buffer.readableBytes)
        let room = captureLimit - responseBody.count
        if room > 0 {
            let view = buffer.readableBytesView
            responseBody.append(contentsOf: view.prefix(room))
        }
    }

    /// Whether the whole request body is still at hand, so the request can be sent again.
    var canReplay: Bool { requestEnded && requestSize == Int64(requestBody.count) }

    /// Whether repeating the request cannot change anything upstream (RFC 9110 §9.2.2).
    var isIdempotent: Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE: true
        default: false
        }
    }

    func microsSinceStart(_ now: NIODeadline = .now()) -> Int64 {
        (now - start).nanoseconds / 1000
    }

    /// The record of this exchange, as of now.
    func makeExchange(error: String?) -> Exchange {
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(requestHead.headers.count)
        for (name, value) in requestHead.headers { headers.append((name, value)) }
        return Exchange(
            id: id, startedAt: id.milliseconds, account: account, gateway: gateway, provider: provider,
            method: method.rawValue, path: path, query: query, requestHeaders: headers, requestBody: requestBody,
            statusCode: statusCode, responseHeaders: responseHeaders, responseBody: responseBody,
            responseSize: responseSize, requestSize: requestSize, durationMicros: microsSinceStart(),
            ttftMicros: ttftMicros, error: error, metadata: metadata, collectPayload: collectPayload, logged: logged,
            quotaReserved: quotaReserved
        )
    }
}
