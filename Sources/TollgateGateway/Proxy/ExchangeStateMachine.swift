import NIOCore

/// The lifecycle of one proxied exchange, as a value: events in, actions out. No I/O and no clock of its own —
/// every event that needs the time carries it (`now`), so tests drive it with a manual clock.
///
/// ```
///              upstreamAttached                 upstreamHead               upstreamEnd
///  connecting ─────────────────► awaitingResponse ─────────► streamingResponse ─────────► finished(.completed)
///      ▲  │                         │   │                          │
///      │  │ connect failed,         │   │ closed before any        │ closed, timeout, request too large
///      │  │ request too large       │   │ response byte, timeout   ▼
///      │  ▼                         │   ▼                        finished(.cut) ─ the client sees the close
///      │ finished(.answered)        │ finished(.answered) ─ the gateway's own 502/504/413
///      └──────── retry ─────────────┘  (a reused connection closed before answering, the request replayable)
///
///  The client going away ends any state but `finished` in finished(.abandoned).
///
///  With the response cache (the request's key needs its whole body):
///                        clientEnd                      cacheHit
///  collectingForCache ──────────────► lookingUpCache ──────────────► finished(.servedFromCache)
///                                       │    │  waitForIdentical            ▲
///                                       │    ▼                    cacheHit  │
///                                       │  waitingForIdentical ─────────────┘
///                                       │    │
///                          cacheMissed  ▼    ▼ cacheMissed (the identical request failed)
///                                     connecting ─ as above
/// ```
///
/// The request side runs beside it (`RequestProgress`): the client may still be uploading while the response
/// streams (an early answer), and its parts go upstream as they come, wait for an upstream, or are collected
/// whole when the body may be rewritten.
///
/// Shaped for what hangs on it next: an exchange answered without an upstream is `finished` with no attempt made (a
/// cache hit from `lookingUpCache` or `waitingForIdentical`, a refusal from `connecting`); an attempt that fails before the first response byte
/// reached the client (`awaitingResponse`) can be tried again on a new connection (`retry`, today for a reused
/// keep-alive connection the upstream had dropped) or against another target; every response body part leaves
/// through one action (`forwardResponseBody`), where a second consumer (the cache's fill) is fed the same bytes.
struct ExchangeStateMachine {
    /// One try at getting the response from an upstream.
    struct Attempt: Equatable {
        /// 1 for the first try.
        var number: Int
        /// The connection came from the keep-alive pool (it may have been closed by the upstream meanwhile).
        var reused: Bool
        /// Any response byte (an interim head included) arrived on this attempt's connection.
        var responded: Bool
        /// The request is sent again from its recorded copy (a retry), not from the client's parts.
        var replay: Bool
    }

    enum State: Equatable {
        /// The request was accepted and its upstream chosen; a connection is being checked out or opened.
        case connecting(Attempt)
        /// An upstream connection carries the request; nothing of the response reached the client yet.
        case awaitingResponse(Attempt)
        /// The response head went to the client; its body passes through. From here a failure cuts the response.
        case streamingResponse(Attempt, upstreamKeepAlive: Bool)
        /// The exchange is over; later events only let go of what is left.
        case finished(Ending)
        /// The response cache may answer: the request body is collected whole (its key needs it), no upstream yet.
        case collectingForCache
        /// The cache key is known and being looked up (off the event loop).
        case lookingUpCache
        /// An identical request is in flight upstream: this one waits to be answered from its response.
        case waitingForIdentical
    }

    /// The client's request, beside the response.
    enum RequestProgress: Equatable {
        /// The client is sending; parts go upstream as they come (held until an upstream is attached).
        case streaming
        /// The client is sending; the body is collected whole before anything goes upstream.
        case collecting
        /// The client has sent everything; the end has not reached an upstream yet.
        case received
        /// The whole request went to the current upstream.
        case sent
    }

    /// How an exchange ended.
    enum Ending: Equatable {
        /// The upstream's response reached the client whole.
        case completed
        /// The gateway answered with its own error response (nothing of an upstream response had been sent).
        case answered(ProxyError)
        /// The response had started; the client connection is closed before its end.
        case cut(ProxyError)
        /// The client went away.
        case abandoned(ProxyError)
        /// Answered from the response cache: no upstream was called.
        case servedFromCache
    }

    /// What happens to the upstream connection when an exchange lets go of it.
    enum UpstreamDisposal: Equatable {
        /// Back to the keep-alive pool (the exchange on it is complete and it said keep-alive).
        case release
        /// Closed.
        case close
        /// Nothing attached, or it is already gone.
        case none
    }

    /// The part of the client's request or the upstream's response the caller should move, and where.
    enum Action: Equatable {
        /// Nothing to do.
        case none
        /// An event that cannot happen in this state (the HTTP codecs guarantee the order of parts); ignored.
        case unexpected
        /// A newly attached upstream: write the head, then the request parts kept so far (with the end when
        /// `complete`).
        case sendRequest(complete: Bool)
        /// A newly attached upstream for a retry: write the head, the recorded body and the end.
        case replayRequest
        /// A newly attached upstream waits: the head goes with the collected body once it is complete.
        case awaitCollectedBody
        /// The upstream is not needed any more (the exchange finished while connecting): close it.
        case discardUpstream
        /// Write this request body part upstream.
        case forwardRequestBody
        /// Keep this request body part until an upstream is attached.
        case queueRequestBody
        /// Add this part to the collected body.
        case collectRequestBody
        /// Write the request's end upstream.
        case forwardRequestEnd
        /// Keep the request's end until an upstream is attached.
        case queueRequestEnd
        /// The collected body is complete: send head, body and end upstream, or keep them until one is attached.
        case sendCollectedRequest(upstreamAttached: Bool)
        /// Drop a request part: the exchange already ended (e.g. answered before the upload finished).
        case dropRequestPart
        /// Pass an interim (1xx) head on to the client (HTTP/1.1 clients only).
        case forwardInterimHead
        /// Drop an interim head (an HTTP/1.0 client would take it for the response).
        case dropInterimHead
        /// Write the response head to the client.
        case forwardResponseHead
        /// Write this response body part to the client.
        case forwardResponseBody
        /// Open a new upstream connection for the next attempt and replay the request on it.
        case retry
        /// Check the read timeout again after this long.
        case scheduleReadTimer(TimeAmount)
        /// The request is whole: compute its cache key and look it up.
        case lookUpCache
        /// Not answered from the cache: send the collected request upstream on a connection checked out or opened
        /// now.
        case connectUpstream
        /// The exchange ended: let go of the upstream, end or close towards the client as `ending` says, and
        /// submit the record.
        case finish(Ending, upstream: UpstreamDisposal)
    }

    private(set) var state: State
    private(set) var request: RequestProgress
    let start: NIODeadline
    let readTimeout: TimeAmount
    /// Safe to send twice (RFC 9110 §9.2.2), so a retry on a fresh connection cannot change anything upstream.
    let idempotent: Bool
    /// The client speaks HTTP/1.0 (no interim responses).
    let http10Client: Bool
    /// Last byte to or from the upstream (for the read timeout).
    private(set) var lastUpstreamActivity: NIODeadline
    /// Time to the first response body byte, once it arrived.
    private(set) var ttft: TimeAmount?

    /// The request timeout (`request_timeout`, `cf-aig-request-timeout`): a response byte (an interim head counts)
    /// must arrive within this long of the exchange's start, or it is answered with 504 `request_timeout`. nil: only
    /// the read timeout applies.
    let requestTimeout: TimeAmount?

    /// `cacheLookup`: the response cache may answer the request, so its body is collected and looked up before any
    /// upstream is asked for (`collectingForCache`).
    init(
        start: NIODeadline, collectsBody: Bool, readTimeout: TimeAmount, idempotent: Bool, http10Client: Bool,
        requestTimeout: TimeAmount? = nil, cacheLookup: Bool = false
    ) {
        self.requestTimeout = requestTimeout
        self.state =
            cacheLookup
            ? .collectingForCache : .connecting(Attempt(number: 1, reused: false, responded: false, replay: false))
        self.request = collectsBody || cacheLookup ? .collecting : .streaming
        self.start = start
        self.readTimeout = readTimeout
        self.idempotent = idempotent
        self.http10Client = http10Client
        self.lastUpstreamActivity = start
    }

    var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    /// An upstream connection is attached (between `upstreamAttached` and the exchange letting go of it).
    var hasUpstream: Bool {
        switch state {
        case .awaitingResponse, .streamingResponse: true
        case .connecting, .finished, .collectingForCache, .lookingUpCache, .waitingForIdentical: false
        }
    }

    /// The response head went out (so a failure now cuts instead of answering).
    var responseStarted: Bool {
        switch state {
        case .streamingResponse: true
        case .finished(.completed), .finished(.cut): true
        case .connecting, .awaitingResponse, .finished, .collectingForCache, .lookingUpCache, .waitingForIdentical:
            false
        }
    }

    /// The client has sent its whole request.
    var requestEnded: Bool { request == .received || request == .sent }

    /// The current attempt, while there is one.
    var attempt: Attempt? {
        switch state {
        case .connecting(let attempt), .awaitingResponse(let attempt), .streamingResponse(let attempt, _): attempt
        case .finished, .collectingForCache, .lookingUpCache, .waitingForIdentical: nil
        }
    }

    func elapsed(_ now: NIODeadline) -> TimeAmount { now - start }

    // MARK: Upstream connection

    /// A connection for the current attempt is ready (from the pool when `reused`).
    mutating func upstreamAttached(reused: Bool, now: NIODeadline) -> Action {
        guard case .connecting(var attempt) = state else {
            // Finished while connecting (client gone, request too large): the connection is not needed.
            return isFinished ? .discardUpstream : .unexpected
        }
        attempt.reused = reused
        attempt.responded = false
        state = .awaitingResponse(attempt)
        lastUpstreamActivity = now
        if request == .collecting { return .awaitCollectedBody }
        if attempt.replay {
            request = .sent
            return .replayRequest
        }
        let complete = request == .received || request == .sent
        if complete { request = .sent }
        return .sendRequest(complete: complete)
    }

    /// Opening a connection for the current attempt failed.
    mutating func upstreamConnectFailed(_ error: ProxyError) -> Action {
        switch state {
        case .connecting:
            return finish(.answered(error), upstream: .none)
        case .finished:
            return .none
        case .awaitingResponse, .streamingResponse, .collectingForCache, .lookingUpCache, .waitingForIdentical:
            return .unexpected
        }
    }

    // MARK: Client request

    /// A body part of `size` bytes arrived from the client; `total` counts every body byte so far.
    mutating func clientBody(total: Int64, limit: Int, now: NIODeadline) -> Action {
        if isFinished { return .dropRequestPart }
        switch request {
        case .received, .sent:
            return .unexpected
        case .collecting, .streaming:
            break
        }
        if total > Int64(limit) { return requestTooLarge() }
        if request == .collecting {
            lastUpstreamActivity = now
            return .collectRequestBody
        }
        guard hasUpstream else { return .queueRequestBody }
        lastUpstreamActivity = now
        return .forwardRequestBody
    }

    /// The client's request ended.
    mutating func clientEnd() -> Action {
        if isFinished { return .dropRequestPart }
        switch request {
        case .received, .sent:
            return .unexpected
        case .collecting:
            if state == .collectingForCache {
                state = .lookingUpCache
                request = .received
                return .lookUpCache
            }
            guard hasUpstream else {
                request = .received
                return .sendCollectedRequest(upstreamAttached: false)
            }
            request = .sent
            return .sendCollectedRequest(upstreamAttached: true)
        case .streaming:
            guard hasUpstream else {
                request = .received
                return .queueRequestEnd
            }
            request = .sent
            return .forwardRequestEnd
        }
    }

    /// The collected body went upstream (after `sendCollectedRequest(upstreamAttached: true)`).
    mutating func collectedRequestSent(now: NIODeadline) {
        lastUpstreamActivity = now
    }

    /// The request body passed the size limit.
    private mutating func requestTooLarge() -> Action {
        let error = ProxyError.requestTooLarge
        if responseStarted { return finish(.cut(error), upstream: .close) }
        return finish(.answered(error), upstream: hasUpstream ? .close : .none)
    }

    // MARK: Upstream response

    /// A response head arrived; `status` is its code.
    mutating func upstreamHead(status: UInt, keepAlive: Bool, now: NIODeadline) -> Action {
        switch state {
        case .awaitingResponse(var attempt):
            lastUpstreamActivity = now
            attempt.responded = true
            if status < 200 && status != 101 {
                state = .awaitingResponse(attempt)
                return http10Client ? .dropInterimHead : .forwardInterimHead
            }
            state = .streamingResponse(attempt, upstreamKeepAlive: keepAlive)
            return .forwardResponseHead
        case .finished:
            return .none
        case .connecting, .streamingResponse, .collectingForCache, .lookingUpCache, .waitingForIdentical:
            return .unexpected
        }
    }

    /// A response body part arrived.
    mutating func upstreamBody(now: NIODeadline) -> Action {
        switch state {
        case .streamingResponse:
            lastUpstreamActivity = now
            if ttft == nil { ttft = now - start }
            return .forwardResponseBody
        case .finished:
            return .none
        case .connecting, .awaitingResponse, .collectingForCache, .lookingUpCache, .waitingForIdentical:
            return .unexpected
        }
    }

    /// The response ended.
    mutating func upstreamEnd() -> Action {
        switch state {
        case .streamingResponse(_, let keepAlive):
            // A connection is clean for the next exchange only when this one's request went out whole.
            let reusable = keepAlive && request == .sent
            return finish(.completed, upstream: reusable ? .release : .close)
        case .finished:
            return .none
        case .connecting, .awaitingResponse, .collectingForCache, .lookingUpCache, .waitingForIdentical:
            return .unexpected
        }
    }

    /// The attached upstream connection closed (`cause` nil) or failed. `replayable`: the recorded request body is
    /// whole, so the request can be sent again.
    mutating func upstreamClosed(cause: (any Error)?, replayable: Bool) -> Action {
        switch state {
        case .awaitingResponse(let attempt):
            if attempt.reused && attempt.number == 1 && !attempt.responded && replayable && idempotent
                && requestEnded
            {
                // A kept-alive connection the upstream had already given up on: once more on a fresh one.
                state = .connecting(Attempt(number: attempt.number + 1, reused: false, responded: false, replay: true))
                return .retry
            }
            return finish(.answered(.closed(by: cause, midStream: false)), upstream: .none)
        case .streamingResponse:
            return finish(.cut(.closed(by: cause, midStream: true)), upstream: .none)
        case .finished:
            return .none
        case .connecting, .collectingForCache, .lookingUpCache, .waitingForIdentical:
            return .unexpected
        }
    }

    // MARK: Timers and the client

    /// How long after `now` the timer should fire first, once an upstream is attached: at the read timeout, or
    /// earlier at the request timeout's deadline.
    func firstTimerDelay(now: NIODeadline) -> TimeAmount {
        guard let requestTimeout else { return readTimeout }
        return max(.nanoseconds(0), min(readTimeout, start + requestTimeout - now))
    }

    /// The read timer fired.
    mutating func readTimerFired(now: NIODeadline) -> Action {
        switch state {
        case .awaitingResponse(let attempt):
            // No response byte yet: the request timeout, when set, runs out first.
            if let requestTimeout, !attempt.responded {
                let deadline = start + requestTimeout
                if now >= deadline { return finish(.answered(.requestTimeout), upstream: .close) }
                let quiet = now - lastUpstreamActivity
                if quiet >= readTimeout { return finish(.answered(.readTimeout), upstream: .close) }
                return .scheduleReadTimer(min(readTimeout - quiet, deadline - now))
            }
            fallthrough
        case .streamingResponse:
            let quiet = now - lastUpstreamActivity
            if quiet < readTimeout { return .scheduleReadTimer(readTimeout - quiet) }
            let error = ProxyError.readTimeout
            return finish(responseStarted ? .cut(error) : .answered(error), upstream: .close)
        case .connecting, .finished, .collectingForCache, .lookingUpCache, .waitingForIdentical:
            // No upstream to wait for: connecting has its own timeout, the cache states and a finished exchange none.
            return .none
        }
    }

    /// The client connection closed.
    mutating func clientGone() -> Action {
        switch state {
        case .connecting, .collectingForCache, .lookingUpCache, .waitingForIdentical:
            return finish(.abandoned(.clientDisconnected), upstream: .none)
        case .awaitingResponse, .streamingResponse:
            return finish(.abandoned(.clientDisconnected), upstream: .close)
        case .finished:
            return .none
        }
    }

    // MARK: Response cache

    /// Whether the client's body is read with no upstream to hold it back (it is collected for the cache key).
    var readsWithoutUpstream: Bool { state == .collectingForCache }

    /// The lookup found the response (or an identical request in flight brought it): answer from it.
    mutating func cacheHit() -> Action {
        switch state {
        case .lookingUpCache, .waitingForIdentical:
            return finish(.servedFromCache, upstream: .none)
        case .finished:
            return .none
        case .connecting, .awaitingResponse, .streamingResponse, .collectingForCache:
            return .unexpected
        }
    }

    /// The lookup found nothing, or the identical request waited for failed: the first attempt goes upstream.
    mutating func cacheMissed() -> Action {
        switch state {
        case .lookingUpCache, .waitingForIdentical:
            state = .connecting(Attempt(number: 1, reused: false, responded: false, replay: false))
            return .connectUpstream
        case .finished:
            return .none
        case .connecting, .awaitingResponse, .streamingResponse, .collectingForCache:
            return .unexpected
        }
    }

    /// An identical request is in flight: wait for its response instead of calling the upstream too.
    mutating func waitForIdentical() -> Action {
        switch state {
        case .lookingUpCache:
            state = .waitingForIdentical
            return .none
        case .finished:
            return .none
        case .connecting, .awaitingResponse, .streamingResponse, .collectingForCache, .waitingForIdentical:
            return .unexpected
        }
    }

    private mutating func finish(_ ending: Ending, upstream: UpstreamDisposal) -> Action {
        state = .finished(ending)
        return .finish(ending, upstream: upstream)
    }
}
