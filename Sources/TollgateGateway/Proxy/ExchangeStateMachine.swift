import NIOCore

/// The lifecycle of one proxied exchange, as a value: events in, actions out. No I/O and no clock of its own —
/// every event that needs the time carries it (`now`), so tests drive it with a manual clock.
///
/// ```
///              upstreamAttached                 upstreamHead               upstreamEnd
///  connecting ─────────────────► awaitingResponse ─────────► streamingResponse ─────────► finished(.completed)
///    ▲ ▲  │                         │   │   │                      │
///    │ │  │ connect failed,         │   │   │ closed before any    │ closed, timeout, request too large
///    │ │  │ request too large       │   │   │ response byte,       ▼
///    │ │  ▼                         │   │   │ timeout            finished(.cut) ─ the client sees the close
///    │ │ finished(.answered)        │   │   ▼
///    │ │                            │   │ finished(.answered) ─ the gateway's own 502/504/413
///    │ └──────── reconnect ─────────┘   │  (a reused connection closed before answering, the request replayable)
///    │                                  │ a retriable failure (connect error, timeout, 429/5xx head) with an
///    │                                  ▼ attempt left, in this step or the next
///    │                   [discardingResponse] ─ a failed response read to its end, never sent
///    │                                  │
///    └─ retryTimerFired ─ waitingToRetry ◄┘
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
/// Attempts follow the request's plan: one `Step` for a request on a provider path, one per element of the
/// universal endpoint's array. A step's `RetryPolicy` says how often and how long after a retriable failure it is
/// tried again; when it has no attempt left the next step starts at once. Retries need the request whole at hand
/// (`keepsBody`: the caller collects it) and never happen once a response byte went to the client.
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
        /// 1 for the first try; counts across the plan's steps.
        var number: Int
        /// The step of the plan this attempt belongs to (0-based).
        var step = 0
        /// 1 for the step's first try (what its retry delay grows with).
        var inStep = 1
        /// The connection came from the keep-alive pool (it may have been closed by the upstream meanwhile).
        var reused: Bool
        /// Any response byte (an interim head included) arrived on this attempt's connection.
        var responded: Bool
        /// The request is sent again from its recorded copy (a retry), not from the client's parts.
        var replay: Bool
        /// The attempt's first connection was a pooled one the upstream had dropped; this is its fresh one.
        var reconnected = false
    }

    /// One provider call of the request's plan, with its own retries and request timeout.
    struct Step: Equatable {
        var retry: RetryPolicy
        /// A response byte must arrive within this long of an attempt's start; nil: only the read timeout applies.
        var requestTimeout: TimeAmount?

        static let once = Step(retry: .none, requestTimeout: nil)
    }

    /// What comes after a failed attempt.
    struct Retry: Equatable {
        var next: Attempt
        /// How long after the failure the next attempt starts.
        var wait: TimeAmount
    }

    /// Why an attempt that is tried again failed (what its record says).
    enum AttemptFailure: Equatable {
        /// The gateway's own error: connect failure, connection closed, timeout.
        case error(ProxyError)
        /// The upstream answered with this retriable status.
        case status(Int)
    }

    enum State: Equatable {
        /// The request was accepted and its upstream chosen; a connection is being checked out or opened.
        case connecting(Attempt)
        /// An upstream connection carries the request; nothing of the response reached the client yet.
        case awaitingResponse(Attempt)
        /// The response head went to the client; its body passes through. From here a failure cuts the response.
        case streamingResponse(Attempt, upstreamKeepAlive: Bool)
        /// The attempt was answered with a retriable status and is tried again: its response is read to the end
        /// for the attempt's record and never reaches the client.
        case discardingResponse(Attempt, status: Int, upstreamKeepAlive: Bool, then: Retry)
        /// Between a failed attempt and the next; no upstream is attached.
        case waitingToRetry(Attempt)
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
        /// Open a new upstream connection for the (next) attempt and send the request on it from its recorded copy.
        case retry
        /// The attempt failed and the request is tried again: let go of the upstream as `upstream` says, record the
        /// attempt, and fire `retryTimerFired` after `retryIn`.
        case attemptFailed(AttemptFailure, retryIn: TimeAmount, upstream: UpstreamDisposal)
        /// A head with a retriable status while another attempt is left: kept for the attempt's record, not sent.
        case discardResponseHead
        /// A body part of a discarded response: kept for the attempt's record, not sent.
        case discardResponseBody
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
    /// When the exchange began.
    let start: NIODeadline
    /// When the current attempt began (the exchange's start for the first): its duration, TTFT and request timeout
    /// count from here.
    private(set) var attemptStart: NIODeadline
    /// The request's plan, at least one step.
    let steps: [Step]
    /// The caller keeps the whole request body (it was collected), so a failed attempt can be tried again.
    let keepsBody: Bool
    let readTimeout: TimeAmount
    /// Safe to send twice (RFC 9110 §9.2.2), so a retry on a fresh connection cannot change anything upstream.
    let idempotent: Bool
    /// The client speaks HTTP/1.0 (no interim responses).
    let http10Client: Bool
    /// Last byte to or from the upstream (for the read timeout).
    private(set) var lastUpstreamActivity: NIODeadline
    /// Time from the attempt's start to the first response body byte, once it arrived.
    private(set) var ttft: TimeAmount?

    /// The current step's request timeout (`request_timeout`, `cf-aig-request-timeout`): a response byte (an
    /// interim head counts) must arrive within this long of the attempt's start, or the attempt fails; with no
    /// attempt left the exchange is answered with 504 `request_timeout`. nil: only the read timeout applies.
    var requestTimeout: TimeAmount? { steps[attempt?.step ?? 0].requestTimeout }

    /// A request with one step: no retry unless `retry` says so, `requestTimeout` as given. `cacheLookup`: the
    /// response cache may answer the request, so its body is collected and looked up before any upstream is asked for
    /// (`collectingForCache`).
    init(
        start: NIODeadline, collectsBody: Bool, readTimeout: TimeAmount, idempotent: Bool, http10Client: Bool,
        requestTimeout: TimeAmount? = nil, retry: RetryPolicy = .none, cacheLookup: Bool = false
    ) {
        self.init(
            start: start, collectsBody: collectsBody, readTimeout: readTimeout, idempotent: idempotent,
            http10Client: http10Client, steps: [Step(retry: retry, requestTimeout: requestTimeout)],
            cacheLookup: cacheLookup)
    }

    /// A request with a plan of `steps` (the universal endpoint's).
    init(
        start: NIODeadline, collectsBody: Bool, readTimeout: TimeAmount, idempotent: Bool, http10Client: Bool,
        steps: [Step], cacheLookup: Bool = false
    ) {
        precondition(!steps.isEmpty, "a plan has at least one step")
        self.steps = steps
        self.keepsBody = collectsBody || cacheLookup
        self.state =
            cacheLookup
            ? .collectingForCache : .connecting(Attempt(number: 1, reused: false, responded: false, replay: false))
        self.request = collectsBody || cacheLookup ? .collecting : .streaming
        self.start = start
        self.attemptStart = start
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
        case .awaitingResponse, .streamingResponse, .discardingResponse: true
        case .connecting, .waitingToRetry, .finished, .collectingForCache, .lookingUpCache, .waitingForIdentical: false
        }
    }

    /// The response head went out (so a failure now cuts instead of answering).
    var responseStarted: Bool {
        switch state {
        case .streamingResponse: true
        case .finished(.completed), .finished(.cut): true
        case .connecting, .awaitingResponse, .discardingResponse, .waitingToRetry, .finished, .collectingForCache,
            .lookingUpCache, .waitingForIdentical:
            false
        }
    }

    /// The client has sent its whole request.
    var requestEnded: Bool { request == .received || request == .sent }

    /// The current attempt, while there is one.
    var attempt: Attempt? {
        switch state {
        case .connecting(let attempt), .awaitingResponse(let attempt), .streamingResponse(let attempt, _),
            .discardingResponse(let attempt, _, _, _), .waitingToRetry(let attempt):
            attempt
        case .finished, .collectingForCache, .lookingUpCache, .waitingForIdentical: nil
        }
    }

    /// How long the current attempt has taken (the whole exchange, for a request tried once).
    func elapsed(_ now: NIODeadline) -> TimeAmount { now - attemptStart }

    /// The attempt after `attempt`, which failed with `failure`, and when it starts; nil when the request is not
    /// tried again: the failure is not retriable, no attempt is left in any step, the request is not whole at hand,
    /// or the client got a response byte.
    private func retry(after attempt: Attempt, _ failure: RetryPolicy.Failure, retryAfter: Int64? = nil) -> Retry? {
        // An interim head already went to the client (`responded` before this failure): no second try.
        guard keepsBody, requestEnded, !responseStarted, !attempt.responded, RetryPolicy.isRetried(failure) else {
            return nil
        }
        let step = steps[attempt.step]
        if let wait = step.retry.wait(afterAttempt: attempt.inStep, failure: failure, retryAfter: retryAfter) {
            let next = Attempt(
                number: attempt.number + 1, step: attempt.step, inStep: attempt.inStep + 1, reused: false,
                responded: false, replay: true)
            return Retry(next: next, wait: .milliseconds(wait))
        }
        guard attempt.step + 1 < steps.count else { return nil }
        // The step is out of attempts: the next one (a fallback) starts at once.
        let next = Attempt(
            number: attempt.number + 1, step: attempt.step + 1, inStep: 1, reused: false, responded: false,
            replay: true)
        return Retry(next: next, wait: .zero)
    }

    /// The attempt failed; `then` is its retry: wait for it.
    private mutating func fail(
        _ failure: AttemptFailure, then retry: Retry, upstream: UpstreamDisposal
    ) -> Action {
        state = .waitingToRetry(retry.next)
        return .attemptFailed(failure, retryIn: retry.wait, upstream: upstream)
    }

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
        case .connecting(let attempt):
            if let retry = retry(after: attempt, .connection) {
                return fail(.error(error), then: retry, upstream: .none)
            }
            return finish(.answered(error), upstream: .none)
        case .finished:
            return .none
        case .awaitingResponse, .streamingResponse, .discardingResponse, .waitingToRetry, .collectingForCache,
            .lookingUpCache, .waitingForIdentical:
            return .unexpected
        }
    }

    /// The retry timer fired: the next attempt starts on a new connection.
    mutating func retryTimerFired(now: NIODeadline) -> Action {
        switch state {
        case .waitingToRetry(let next):
            state = .connecting(next)
            attemptStart = now
            lastUpstreamActivity = now
            ttft = nil
            return .retry
        case .finished:
            return .none
        case .connecting, .awaitingResponse, .streamingResponse, .discardingResponse, .collectingForCache,
            .lookingUpCache, .waitingForIdentical:
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

    /// A response head arrived; `status` is its code, `retryAfter` its `Retry-After` in milliseconds.
    mutating func upstreamHead(status: UInt, keepAlive: Bool, now: NIODeadline, retryAfter: Int64? = nil) -> Action {
        switch state {
        case .awaitingResponse(let before):
            lastUpstreamActivity = now
            var attempt = before
            attempt.responded = true
            if status < 200 && status != 101 {
                state = .awaitingResponse(attempt)
                return http10Client ? .dropInterimHead : .forwardInterimHead
            }
            if let retry = retry(after: before, .status(Int(status)), retryAfter: retryAfter) {
                state = .discardingResponse(attempt, status: Int(status), upstreamKeepAlive: keepAlive, then: retry)
                return .discardResponseHead
            }
            state = .streamingResponse(attempt, upstreamKeepAlive: keepAlive)
            return .forwardResponseHead
        case .finished:
            return .none
        case .connecting, .streamingResponse, .discardingResponse, .waitingToRetry, .collectingForCache,
            .lookingUpCache, .waitingForIdentical:
            return .unexpected
        }
    }

    /// A response body part arrived.
    mutating func upstreamBody(now: NIODeadline) -> Action {
        switch state {
        case .streamingResponse:
            lastUpstreamActivity = now
            if ttft == nil { ttft = now - attemptStart }
            return .forwardResponseBody
        case .discardingResponse:
            lastUpstreamActivity = now
            return .discardResponseBody
        case .finished:
            return .none
        case .connecting, .awaitingResponse, .waitingToRetry, .collectingForCache, .lookingUpCache,
            .waitingForIdentical:
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
        case .discardingResponse(_, let status, let keepAlive, let retry):
            let reusable = keepAlive && request == .sent
            return fail(.status(status), then: retry, upstream: reusable ? .release : .close)
        case .finished:
            return .none
        case .connecting, .awaitingResponse, .waitingToRetry, .collectingForCache, .lookingUpCache,
            .waitingForIdentical:
            return .unexpected
        }
    }

    /// The attached upstream connection closed (`cause` nil) or failed. `replayable`: the recorded request body is
    /// whole, so the request can be sent again.
    mutating func upstreamClosed(cause: (any Error)?, replayable: Bool) -> Action {
        switch state {
        case .awaitingResponse(var attempt):
            if attempt.reused && !attempt.responded && replayable && idempotent && requestEnded {
                // A kept-alive connection the upstream had already given up on: the same attempt once more, on a
                // fresh connection (it is not counted as a retry).
                attempt.reused = false
                attempt.replay = true
                attempt.reconnected = true
                state = .connecting(attempt)
                return .retry
            }
            let error = ProxyError.closed(by: cause, midStream: false)
            if let retry = retry(after: attempt, .connection) {
                return fail(.error(error), then: retry, upstream: .none)
            }
            return finish(.answered(error), upstream: .none)
        case .streamingResponse:
            return finish(.cut(.closed(by: cause, midStream: true)), upstream: .none)
        case .discardingResponse(_, let status, _, let retry):
            return fail(.status(status), then: retry, upstream: .none)
        case .finished:
            return .none
        case .connecting, .waitingToRetry, .collectingForCache, .lookingUpCache, .waitingForIdentical:
            return .unexpected
        }
    }

    // MARK: Timers and the client

    /// How long after `now` the timer should fire first, once an upstream is attached: at the read timeout, or
    /// earlier at the request timeout's deadline.
    func firstTimerDelay(now: NIODeadline) -> TimeAmount {
        guard let requestTimeout else { return readTimeout }
        return max(.nanoseconds(0), min(readTimeout, attemptStart + requestTimeout - now))
    }

    /// The read timer fired.
    mutating func readTimerFired(now: NIODeadline) -> Action {
        switch state {
        case .awaitingResponse(let attempt):
            let quiet = now - lastUpstreamActivity
            var error: ProxyError?
            if let requestTimeout, !attempt.responded {
                // No response byte yet: the request timeout, when set, runs out first.
                let deadline = attemptStart + requestTimeout
                if now >= deadline {
                    error = .requestTimeout
                } else if quiet < readTimeout {
                    return .scheduleReadTimer(min(readTimeout - quiet, deadline - now))
                }
            } else if quiet < readTimeout {
                return .scheduleReadTimer(readTimeout - quiet)
            }
            let timeout = error ?? .readTimeout
            if let retry = retry(after: attempt, .timeout) {
                return fail(.error(timeout), then: retry, upstream: .close)
            }
            return finish(.answered(timeout), upstream: .close)
        case .streamingResponse:
            let quiet = now - lastUpstreamActivity
            if quiet < readTimeout { return .scheduleReadTimer(readTimeout - quiet) }
            return finish(.cut(.readTimeout), upstream: .close)
        case .discardingResponse(_, let status, _, let retry):
            let quiet = now - lastUpstreamActivity
            if quiet < readTimeout { return .scheduleReadTimer(readTimeout - quiet) }
            return fail(.status(status), then: retry, upstream: .close)
        case .connecting, .waitingToRetry, .finished, .collectingForCache, .lookingUpCache, .waitingForIdentical:
            // No upstream to wait for: connecting has its own timeout, the cache states and a finished exchange none.
            return .none
        }
    }

    /// The client connection closed.
    mutating func clientGone() -> Action {
        switch state {
        case .connecting, .waitingToRetry, .collectingForCache, .lookingUpCache, .waitingForIdentical:
            return finish(.abandoned(.clientDisconnected), upstream: .none)
        case .awaitingResponse, .streamingResponse, .discardingResponse:
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
        case .connecting, .awaitingResponse, .streamingResponse, .discardingResponse, .waitingToRetry,
            .collectingForCache:
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
        case .connecting, .awaitingResponse, .streamingResponse, .discardingResponse, .waitingToRetry,
            .collectingForCache:
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
        case .connecting, .awaitingResponse, .streamingResponse, .discardingResponse, .waitingToRetry,
            .collectingForCache, .waitingForIdentical:
            return .unexpected
        }
    }

    private mutating func finish(_ ending: Ending, upstream: UpstreamDisposal) -> Action {
        state = .finished(ending)
        return .finish(ending, upstream: upstream)
    }
}
