import NIOCore
import NIOHTTP1

/// The lifecycle of one client connection, as a value: which path each request goes to (the proxy for `/v1/`,
/// Hummingbird for the rest), pipelined requests held until the response before them ended, the idle timeout,
/// graceful shutdown and half-close. No I/O and no clock of its own: events carry `now`.
///
/// ```
///            head                    response ended, request read whole
///   idle ───────────► busy(request) ──────────────────────────────────► idle
///    │                  │  pipelined parts: held, reads paused; released when the response ended
///    │ idle timeout     │  response ended without keep-alive, a cut, an error on the proxy path
///    ▼                  ▼
///   closing ◄───────────┘ ───────► closed (channel inactive; an exchange in flight is abandoned)
/// ```
///
/// Graceful shutdown (`quiesce`) keeps the connection open until the response in flight ended, then closes.
struct ConnectionStateMachine {
    enum Path: Equatable {
        /// The proxy (`/v1/`): handled by `ProxyHandler` itself.
        case proxy
        /// Everything else: passed on to Hummingbird.
        case passthrough
    }

    /// The request in flight: its parts are still being read (`receiving`) and/or its response written
    /// (`responding`); at least one of the two.
    struct Request: Equatable {
        var path: Path
        var receiving: Bool
        var responding: Bool
    }

    enum State: Equatable {
        /// Open, nothing being read or answered since `since`.
        case idle(since: NIODeadline)
        /// Open with a request in flight.
        case busy(Request)
        /// Being closed by the gateway: nothing more is read or answered.
        case closing
        /// The channel is inactive.
        case closed
    }

    /// A half-close of the output the Hummingbird side asked for.
    enum OutputClose: Equatable {
        case none
        /// Asked while a proxied response was being written: done when it ends.
        case deferred
    }

    /// Where a received request part goes.
    enum PartAction: Equatable {
        /// A proxied request's head: begin an exchange.
        case startExchange
        /// A body part or the end of the proxied request in flight.
        case toExchange
        /// A part of a request for Hummingbird.
        case toHummingbird
        /// Kept until the response in flight ended (a pipelined request); reads pause meanwhile.
        case hold
        /// Dropped: the connection is closing, or the proxied request was answered before it was read whole.
        case drop
    }

    /// What follows the end of a response.
    enum ResponseEndAction: Equatable {
        /// Hand held requests on (after a half-close asked for meanwhile, when `closeOutput`).
        case releaseHeld(closeOutput: Bool)
        /// The connection closes (no keep-alive, or shutting down).
        case close
        /// No response was in flight.
        case unexpected
    }

    enum QuiesceAction: Equatable {
        /// Hummingbird handles it (it closes after its response, or at once when idle).
        case forwardToHummingbird
        /// A proxied response is in flight: the connection closes when it ends.
        case closeAfterExchange
        /// Already closing.
        case none
    }

    enum IdleAction: Equatable {
        case close
        case checkAgain(after: TimeAmount)
        /// Closing or closed: no more checks.
        case stop
    }

    enum ReadAction: Equatable {
        case read
        /// Remembered: read when `resumeReads` allows.
        case pend
        case none
    }

    enum OutputCloseAction: Equatable {
        case closeOutput
        case deferUntilExchangeEnds
    }

    enum InactiveAction: Equatable {
        /// A proxied exchange was in flight: it is abandoned (client gone).
        case abandonExchange
        case none
    }

    private(set) var state: State
    /// Pipelined request parts waiting for the response in flight to end.
    private(set) var held = CircularBuffer<HTTPServerRequestPart>()
    /// Graceful shutdown asked the connection to close once its response ends.
    private(set) var quiescing = false
    private(set) var outputClose = OutputClose.none
    /// A read asked for while reads were paused.
    private(set) var readPending = false
    /// Close after this long with nothing in flight; nil: never.
    let idleTimeout: TimeAmount?

    init(now: NIODeadline, idleTimeout: TimeAmount?) {
        self.state = .idle(since: now)
        self.idleTimeout = idleTimeout
    }

    /// A proxied request is being answered (its exchange is in flight).
    var exchangeInFlight: Bool {
        if case .busy(let request) = state { return request.path == .proxy && request.responding }
        return false
    }

    var isClosing: Bool {
        switch state {
        case .closing, .closed: true
        case .idle, .busy: false
        }
    }

    // MARK: Inbound

    /// A request part arrived from the client.
    mutating func received(_ part: HTTPServerRequestPart, now: NIODeadline) -> PartAction {
        if isClosing { return .drop }
        if !held.isEmpty {
            held.append(part)
            return .hold
        }
        return route(part, now: now)
    }

    /// The next held part to hand on, with where it goes; nil when none may go yet (a head waits for the
    /// response before it to end).
    mutating func nextHeld(now: NIODeadline) -> (HTTPServerRequestPart, PartAction)? {
        guard !isClosing, let part = held.first else { return nil }
        if case .head = part, case .busy(let request) = state, request.responding { return nil }
        held.removeFirst()
        return (part, route(part, now: now))
    }

    private mutating func route(_ part: HTTPServerRequestPart, now: NIODeadline) -> PartAction {
        switch part {
        case .head(let head):
            if case .busy(let request) = state, request.responding || request.receiving {
                held.append(part)
                return .hold
            }
            let path: Path = ProxyRoute.isProxyURI(head.uri) ? .proxy : .passthrough
            state = .busy(Request(path: path, receiving: true, responding: true))
            return path == .proxy ? .startExchange : .toHummingbird
        case .body, .end:
            guard case .busy(var request) = state, request.receiving else { return .drop }
            let action: PartAction =
                switch request.path {
                case .passthrough: .toHummingbird
                case .proxy: request.responding ? .toExchange : .drop
                }
            if case .end = part {
                request.receiving = false
                state = request.responding ? .busy(request) : .idle(since: now)
            } else {
                state = .busy(request)
            }
            return action
        }
    }

    // MARK: Responses

    /// The response in flight ended; `keepAlive` false closes the connection after it.
    mutating func responseEnded(keepAlive: Bool, now: NIODeadline) -> ResponseEndAction {
        guard case .busy(var request) = state, request.responding else { return .unexpected }
        request.responding = false
        if !keepAlive || quiescing {
            startClosing()
            return .close
        }
        state = request.receiving ? .busy(request) : .idle(since: now)
        let closeOutput = outputClose == .deferred
        outputClose = .none
        return .releaseHeld(closeOutput: closeOutput)
    }

    /// Hummingbird wrote the end of a response.
    mutating func hummingbirdResponseEnded(now: NIODeadline) -> ResponseEndAction {
        guard case .busy(let request) = state, request.path == .passthrough else { return .unexpected }
        // Hummingbird closes the connection itself when it should not be kept.
        return responseEnded(keepAlive: true, now: now)
    }

    /// The gateway closes the connection (a cut, a broken request): nothing more is read or answered.
    mutating func startClosing() {
        guard state != .closed else { return }
        state = .closing
        held.removeAll()
    }

    // MARK: Connection events

    /// Graceful shutdown began.
    mutating func quiesce() -> QuiesceAction {
        if isClosing { return .none }
        quiescing = true
        if exchangeInFlight {
            // Hummingbird's connection handler does not know about the exchange: the proxy closes when it ends.
            held.removeAll()
            return .closeAfterExchange
        }
        return .forwardToHummingbird
    }

    /// The idle timer fired.
    mutating func idleCheck(now: NIODeadline) -> IdleAction {
        guard let idleTimeout else { return .stop }
        switch state {
        case .closing, .closed:
            return .stop
        case .busy:
            return .checkAgain(after: idleTimeout)
        case .idle(let since):
            if !held.isEmpty { return .checkAgain(after: idleTimeout) }
            let quiet = now - since
            if quiet >= idleTimeout {
                startClosing()
                return .close
            }
            return .checkAgain(after: idleTimeout - quiet)
        }
    }

    /// Whether reads pause: pipelined parts are held, or the exchange cannot take request bytes now
    /// (`exchangeBlocksReads`).
    private func readsPaused(exchangeBlocksReads: Bool) -> Bool {
        !held.isEmpty || (exchangeInFlight && exchangeBlocksReads)
    }

    /// The pipeline asked for a read.
    mutating func read(exchangeBlocksReads: Bool) -> ReadAction {
        if readsPaused(exchangeBlocksReads: exchangeBlocksReads) {
            readPending = true
            return .pend
        }
        return .read
    }

    /// Something that paused reads changed: a pending read may go on.
    mutating func resumeReads(exchangeBlocksReads: Bool) -> ReadAction {
        guard readPending, !readsPaused(exchangeBlocksReads: exchangeBlocksReads) else { return .none }
        readPending = false
        return .read
    }

    /// Hummingbird asked to half-close the output.
    mutating func outputCloseRequested() -> OutputCloseAction {
        if exchangeInFlight {
            outputClose = .deferred
            return .deferUntilExchangeEnds
        }
        return .closeOutput
    }

    /// A request on the proxy path could not be parsed: nothing sensible can follow on this connection.
    /// Returns false when the error belongs to Hummingbird's request.
    mutating func errorCaught() -> Bool {
        guard case .busy(let request) = state, request.path == .proxy else { return false }
        startClosing()
        return true
    }

    /// The channel became inactive.
    mutating func inactive() -> InactiveAction {
        let abandon = exchangeInFlight
        state = .closed
        held.removeAll()
        return abandon ? .abandonExchange : .none
    }
}
