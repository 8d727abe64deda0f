import NIOCore
import NIOHTTP1
import TollgateModel

/// One proxied request/response on the client connection's event loop: its lifecycle (`machine`), the NIO
/// resources it holds (upstream connection, read timer) and the byte copies that become its `Exchange` record.
final class ProxyExchange {
    /// The current attempt's log id (each attempt is its own log).
    private(set) var id: LogID {
        didSet { logIDText = nil }
    }
    /// `id` in its hyphenated form, made the first time it is asked for: a response whose headers no log keeps has
    /// the id written into its head as bytes (`ResponseEncoder.encodeHead(logID:)`), without a `String`.
    var logID: String {
        if let logIDText { return logIDText }
        let text = id.description
        logIDText = text
        return text
    }
    private var logIDText: String?
    /// The event every attempt belongs to: the client's `cf-aig-event-id`, or the first attempt's log id once a
    /// second attempt starts; nil while the exchange is its own event.
    var eventID: String?
    /// The current attempt (1-based), and its step of the universal endpoint's plan (nil on a provider path).
    var attempt = 1
    var step: Int?
    let account: String
    let gateway: String
    // What the current attempt calls; a universal endpoint's step changes them.
    var provider: String
    var target: UpstreamTarget
    var method: HTTPMethod
    var path: String
    var query: String?
    /// The client's request head (its version and keep-alive answer the client).
    let requestHead: HTTPRequestHead
    /// The request headers the record keeps: the client's, or the universal endpoint step's.
    var recordedHeaders: HTTPHeaders {
        didSet { recordedList = nil }
    }
    /// `recordedHeaders` as the record's list, when the caller made it already (it let go of it when they change).
    var recordedList: [(name: String, value: String)]?
    /// The universal endpoint's steps, when the request came through it.
    var universal: UniversalRequest?
    /// The head sent upstream (its framing headers change when the body is rewritten).
    var upstreamHead: HTTPRequestHead
    let metadata: [MetadataEntry]
    let collectPayload: Bool
    /// False when only the usage is kept (no log: collection off, or the log quota used up).
    var logged = true
    /// The bodies are copied into the record (its log keeps them), and the ingest stage reads model and usage from
    /// those copies. Otherwise the scanners read them as they pass and nothing else is kept (but the request body of
    /// an idempotent request, so it can be sent again).
    var capturesBodies = true
    /// The record keeps the upstream's response headers (its log keeps the payload), or the cache does: the response
    /// head is read with its fields packed (`HeaderList`). Otherwise they are only forwarded, as the bytes they came
    /// in.
    var recordsResponseHeaders: Bool { capturesBodies || caching != nil }
    /// Holds a reservation of the account's log quota (ended by the ingest stage).
    var quotaReserved = false
    /// Sent to the client as `cf-aig-log-status` when the log is not stored for a reason the client should know.
    var logStatus: StaticString?
    /// Whether the client connection stays open after this response.
    var keepClientAlive: Bool
    let captureLimit: Int

    /// Where the exchange is in its life; every decision is taken there.
    var machine: ExchangeStateMachine

    /// Body parts the scanners have not read yet. They are read once the parts are on their way (after the flush
    /// that sends them, `scanPassedParts()`), so reading them is not on the path of the bytes; whatever is left is
    /// read before the record is made. References to the buffers being sent, not copies.
    var unscannedRequest = PassedParts()
    var unscannedResponse = PassedParts()

    // Request side.
    var requestScanner = RequestSummaryScanner()
    var requestBody: [UInt8] = []
    var requestSize: Int64 = 0
    /// Request parts received before the upstream connection was ready.
    var pending: [HTTPClientRequestPart] = []
    /// The request body being collected (`RequestProgress.collecting`).
    var heldBody: ByteBuffer?
    /// The collected body as it went upstream — rewritten, or as the client sent it — kept for a retry's replay
    /// (`requestBody` stays what the client sent, up to the capture limit).
    var forwardedBody: ByteBuffer?
    /// The stored AWS key the request is signed with once its body is whole (Bedrock).
    var signing: ProxyHandler.AWSSigning?
    /// The collected body may get `stream_options.include_usage` (a streaming chat completion on a gateway that asks
    /// for stream usage).
    var rewritesStreamUsage = false
    /// The gateway asks streams for their usage (its `stream_usage` setting), for a universal endpoint step.
    var streamUsageWanted = false
    /// The gateway asked the upstream for stream usage: the usage-only chunk is kept from the client.
    var injectedStreamUsage = false

    // Upstream side.
    var upstream: UpstreamConnection?
    /// The retry delay between attempts (the read timeout is the connection's timer, `ProxyHandler.readTimer`).
    var retryTimer: Scheduled<Void>?

    // Response side.
    /// Reads usage as the upstream's body passes, when the body is not copied; set when its head arrived.
    var responseScanner: ResponseUsageScanner?
    var statusCode = 0
    var responseHeaders: HeaderList = []
    var responseBody: [UInt8] = []
    var responseSize: Int64 = 0
    /// Set when the response is a stream the gateway asked usage for; filters what the client receives.
    var usageFilter: StreamUsageFilter?
    /// The response cache's part, when caching applies to the request.
    var caching: ExchangeCaching?

    init(
        id: LogID, machine: ExchangeStateMachine, names: RouteNames, target: UpstreamTarget,
        requestHead: HTTPRequestHead, upstreamHead: HTTPRequestHead, metadata: [MetadataEntry], collectPayload: Bool,
        captureLimit: Int, keepClientAlive: Bool? = nil
    ) {
        self.id = id
        self.machine = machine
        self.account = names.account
        self.gateway = names.gateway
        self.provider = names.provider
        self.target = target
        self.method = requestHead.method
        self.path = names.path
        self.query = names.query
        self.requestHead = requestHead
        self.recordedHeaders = requestHead.headers
        self.upstreamHead = upstreamHead
        self.metadata = metadata
        self.collectPayload = collectPayload
        // Given when the caller already knows (it saw whether the head has a `Connection` header).
        self.keepClientAlive = keepClientAlive ?? requestHead.isKeepAlive
        self.captureLimit = captureLimit
    }

    /// A request body part passed: counted, read, and copied when the record or a retry needs it.
    func captureRequest(_ buffer: ByteBuffer) {
        requestSize += Int64(buffer.readableBytes)
        if !capturesBodies { unscannedRequest.append(buffer) }
        guard capturesBodies || machine.idempotent else { return }
        Self.append(buffer, to: &requestBody, limit: captureLimit)
    }

    /// A response body part passed: counted, read, and copied when the record keeps it.
    func captureResponse(_ buffer: ByteBuffer) {
        responseSize += Int64(buffer.readableBytes)
        if responseScanner != nil { unscannedResponse.append(buffer) }
        guard capturesBodies else { return }
        Self.append(buffer, to: &responseBody, limit: captureLimit)
    }

    /// Lets the scanners read the body parts that passed since they last did.
    func scanPassedParts() {
        unscannedRequest.drain { buffer in buffer.withUnsafeReadableBytes { requestScanner.feed($0) } }
        guard responseScanner != nil else { return unscannedResponse.removeAll() }
        unscannedResponse.drain { buffer in buffer.withUnsafeReadableBytes { responseScanner!.feed($0) } }
    }

    /// Copies `buffer`'s bytes onto `bytes`, up to `limit` bytes in all (one copy, not byte by byte).
    static func append(_ buffer: ByteBuffer, to bytes: inout [UInt8], limit: Int) {
        let room = limit - bytes.count
        guard room > 0 else { return }
        buffer.withUnsafeReadableBytes { raw in
            let part = raw.bindMemory(to: UInt8.self)
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: part.prefix(room)))
        }
    }

    /// A failed attempt was recorded: the next one gets its own log id and starts with no response.
    func startNextAttempt(id next: LogID, attempt number: Int, step: Int?) {
        if eventID == nil { eventID = logID }
        id = next
        attempt = number
        self.step = step
        statusCode = 0
        responseHeaders = []
        responseBody = []
        responseSize = 0
        responseScanner = nil
        unscannedResponse.removeAll()
        usageFilter = nil
    }

    /// Whether the whole request body is still at hand, so the request can be sent again.
    var canReplay: Bool { requestSize == Int64(requestBody.count) }

    /// Whether repeating `method` cannot change anything upstream (RFC 9110 §9.2.2).
    static func isIdempotent(_ method: HTTPMethod) -> Bool {
        switch method {
        case .GET, .HEAD, .OPTIONS, .PUT, .DELETE, .TRACE: true
        default: false
        }
    }

    /// The record of this exchange as of `now`.
    func makeExchange(error: String?, now: NIODeadline) -> Exchange {
        var headers: [(name: String, value: String)]
        if let recordedList {
            headers = recordedList
        } else {
            headers = []
            headers.reserveCapacity(recordedHeaders.count)
            for (name, value) in recordedHeaders { headers.append((name, value)) }
        }
        scanPassedParts()
        // Made in one call, not changed after: a value changed after it was made is copied out.
        let api = target.customAPI
        return Exchange(
            id: id, startedAt: id.milliseconds, account: account, gateway: gateway, provider: provider,
            method: method.rawValue, path: path, query: query, requestHeaders: headers, requestBody: requestBody,
            statusCode: statusCode, responseHeaders: responseHeaders, responseBody: responseBody,
            responseSize: responseSize, requestSize: requestSize,
            durationMicros: machine.elapsed(now).nanoseconds / 1000,
            ttftMicros: machine.ttft.map { $0.nanoseconds / 1000 }, error: error, metadata: metadata,
            collectPayload: collectPayload, logged: logged,
            quotaReserved: quotaReserved, requestSummary: capturesBodies ? nil : requestScanner.finish(),
            responseUsage: capturesBodies ? nil : responseScanner?.finish() ?? ResponseUsage(),
            eventID: eventID, attempt: attempt, step: step, cached: caching?.status == .hit,
            declaredAPI: api?.providerAPI, readsUsage: api.map { $0 != .none } ?? true)
    }
}

/// Body parts held for a scanner until the flush that sends them: one part (the usual small body) without an
/// array, more in one.
struct PassedParts {
    private var first: ByteBuffer?
    private var more: [ByteBuffer] = []

    mutating func append(_ buffer: ByteBuffer) {
        if first == nil { first = buffer } else { more.append(buffer) }
    }

    /// Hands every part to `read`, in order, and forgets them.
    mutating func drain(_ read: (ByteBuffer) -> Void) {
        guard let part = first else { return }
        first = nil
        read(part)
        guard !more.isEmpty else { return }
        for part in more { read(part) }
        more.removeAll(keepingCapacity: true)
    }

    mutating func removeAll() {
        first = nil
        more.removeAll()
    }
}
