import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import TollgateGateway

/// `ExchangeStateMachine` alone, without sockets: the whole transition table, then the stories it has to get right
/// (early answers, cuts, retries, timeouts on a manual clock).
struct ExchangeStateMachineTests {
    typealias Machine = ExchangeStateMachine

    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
    static let timeout = TimeAmount.seconds(30)
    static let limit = 1000

    static func machine(collecting: Bool = false, idempotent: Bool = false, http10: Bool = false) -> Machine {
        Machine(start: t0, collectsBody: collecting, readTimeout: timeout, idempotent: idempotent, http10Client: http10)
    }

    /// Three attempts, 100 ms apart then 200 ms (exponential), the body collected whole.
    static let threeAttempts = RetryPolicy(maxAttempts: 3, delay: 100, backoff: .exponential)

    static func retrying(_ retry: RetryPolicy = threeAttempts, requestTimeout: TimeAmount? = nil) -> Machine {
        Machine(
            start: t0, collectsBody: true, readTimeout: timeout, idempotent: false, http10Client: false,
            requestTimeout: requestTimeout, retry: retry)
    }

    static func at(_ milliseconds: Int64) -> NIODeadline { t0 + .milliseconds(milliseconds) }

    // MARK: The transition table

    /// The events of the table; each is applied to a copy of a state.
    enum Event: String, CaseIterable {
        case attachFresh, attachReused, connectFailed, body, bodyTooLarge, end, interimHead, head, keepAliveHead
        case retriableHead, responseBody, responseEnd, upstreamClosed, readTimerEarly, readTimerLate, retryTimer
        case clientGone

        func apply(to machine: inout Machine) -> Machine.Action {
            let now = ExchangeStateMachineTests.at(100)
            switch self {
            case .attachFresh: return machine.upstreamAttached(reused: false, now: now)
            case .attachReused: return machine.upstreamAttached(reused: true, now: now)
            case .connectFailed: return machine.upstreamConnectFailed(.unreachable("refused"))
            case .body: return machine.clientBody(total: 10, limit: ExchangeStateMachineTests.limit, now: now)
            case .bodyTooLarge: return machine.clientBody(total: 1001, limit: ExchangeStateMachineTests.limit, now: now)
            case .end: return machine.clientEnd()
            case .interimHead: return machine.upstreamHead(status: 100, keepAlive: true, now: now)
            case .head: return machine.upstreamHead(status: 200, keepAlive: false, now: now)
            case .keepAliveHead: return machine.upstreamHead(status: 200, keepAlive: true, now: now)
            case .retriableHead: return machine.upstreamHead(status: 503, keepAlive: true, now: now)
            case .retryTimer: return machine.retryTimerFired(now: now)
            case .responseBody: return machine.upstreamBody(now: now)
            case .responseEnd: return machine.upstreamEnd()
            case .upstreamClosed: return machine.upstreamClosed(cause: nil, replayable: true)
            case .readTimerEarly:
                return machine.readTimerFired(now: machine.lastUpstreamActivity + .seconds(10))
            case .readTimerLate:
                return machine.readTimerFired(now: machine.lastUpstreamActivity + ExchangeStateMachineTests.timeout)
            case .clientGone: return machine.clientGone()
            }
        }
    }

    /// The states of the table, each reached from a new exchange by real events.
    static let states: [(name: String, machine: Machine)] = {
        func drive(_ machine: Machine, _ steps: (inout Machine) -> Void) -> Machine {
            var machine = machine
            steps(&machine)
            return machine
        }
        let now = at(50)
        return [
            ("connecting/streaming", machine(idempotent: true)),
            ("connecting/collecting", machine(collecting: true)),
            ("connecting/received", drive(machine(idempotent: true)) { _ = $0.clientEnd() }),
            ("awaiting/streaming", drive(machine()) { _ = $0.upstreamAttached(reused: false, now: now) }),
            (
                "awaiting/collecting",
                drive(machine(collecting: true)) { _ = $0.upstreamAttached(reused: false, now: now) }
            ),
            (
                "awaiting/sent",
                drive(machine(idempotent: true)) {
                    _ = $0.upstreamAttached(reused: false, now: now)
                    _ = $0.clientEnd()
                }
            ),
            (
                "awaiting/sent reused",
                drive(machine(idempotent: true)) {
                    _ = $0.upstreamAttached(reused: true, now: now)
                    _ = $0.clientEnd()
                }
            ),
            (
                "streaming/streaming",
                drive(machine()) {
                    _ = $0.upstreamAttached(reused: false, now: now)
                    _ = $0.upstreamHead(status: 200, keepAlive: true, now: now)
                }
            ),
            (
                "streaming/sent",
                drive(machine()) {
                    _ = $0.upstreamAttached(reused: false, now: now)
                    _ = $0.clientEnd()
                    _ = $0.upstreamHead(status: 200, keepAlive: true, now: now)
                }
            ),
            (
                "finished",
                drive(machine()) {
                    _ = $0.clientGone()
                }
            ),
            ("connecting/collecting retries", retrying()),
            (
                "awaiting/sent retries",
                drive(retrying()) {
                    _ = $0.upstreamAttached(reused: false, now: now)
                    _ = $0.clientEnd()
                }
            ),
            (
                "discarding",
                drive(retrying()) {
                    _ = $0.upstreamAttached(reused: false, now: now)
                    _ = $0.clientEnd()
                    _ = $0.upstreamHead(status: 503, keepAlive: true, now: now)
                }
            ),
            (
                "waiting to retry",
                drive(retrying()) {
                    _ = $0.clientEnd()
                    _ = $0.upstreamConnectFailed(.unreachable("refused"))
                }
            ),
        ]
    }()

    /// Every event in every state, and what it must do. `unexpected` is the documented answer to an event the
    /// HTTP codecs never deliver in that state.
    static let table = """
        connecting/streaming | attachFresh | sendRequest(complete: false)
        connecting/streaming | attachReused | sendRequest(complete: false)
        connecting/streaming | connectFailed | finish(answered: upstream unreachable: refused, upstream: none)
        connecting/streaming | body | queueRequestBody
        connecting/streaming | bodyTooLarge | finish(answered: request body exceeds the size limit, upstream: none)
        connecting/streaming | end | queueRequestEnd
        connecting/streaming | interimHead | unexpected
        connecting/streaming | head | unexpected
        connecting/streaming | keepAliveHead | unexpected
        connecting/streaming | retriableHead | unexpected
        connecting/streaming | responseBody | unexpected
        connecting/streaming | responseEnd | unexpected
        connecting/streaming | upstreamClosed | unexpected
        connecting/streaming | readTimerEarly | none
        connecting/streaming | readTimerLate | none
        connecting/streaming | retryTimer | unexpected
        connecting/streaming | clientGone | finish(abandoned: client disconnected before the response ended, upstream: none)
        connecting/collecting | attachFresh | awaitCollectedBody
        connecting/collecting | attachReused | awaitCollectedBody
        connecting/collecting | connectFailed | finish(answered: upstream unreachable: refused, upstream: none)
        connecting/collecting | body | collectRequestBody
        connecting/collecting | bodyTooLarge | finish(answered: request body exceeds the size limit, upstream: none)
        connecting/collecting | end | sendCollectedRequest(upstreamAttached: false)
        connecting/collecting | interimHead | unexpected
        connecting/collecting | head | unexpected
        connecting/collecting | keepAliveHead | unexpected
        connecting/collecting | retriableHead | unexpected
        connecting/collecting | responseBody | unexpected
        connecting/collecting | responseEnd | unexpected
        connecting/collecting | upstreamClosed | unexpected
        connecting/collecting | readTimerEarly | none
        connecting/collecting | readTimerLate | none
        connecting/collecting | retryTimer | unexpected
        connecting/collecting | clientGone | finish(abandoned: client disconnected before the response ended, upstream: none)
        connecting/received | attachFresh | sendRequest(complete: true)
        connecting/received | attachReused | sendRequest(complete: true)
        connecting/received | connectFailed | finish(answered: upstream unreachable: refused, upstream: none)
        connecting/received | body | unexpected
        connecting/received | bodyTooLarge | unexpected
        connecting/received | end | unexpected
        connecting/received | interimHead | unexpected
        connecting/received | head | unexpected
        connecting/received | keepAliveHead | unexpected
        connecting/received | retriableHead | unexpected
        connecting/received | responseBody | unexpected
        connecting/received | responseEnd | unexpected
        connecting/received | upstreamClosed | unexpected
        connecting/received | readTimerEarly | none
        connecting/received | readTimerLate | none
        connecting/received | retryTimer | unexpected
        connecting/received | clientGone | finish(abandoned: client disconnected before the response ended, upstream: none)
        awaiting/streaming | attachFresh | unexpected
        awaiting/streaming | attachReused | unexpected
        awaiting/streaming | connectFailed | unexpected
        awaiting/streaming | body | forwardRequestBody
        awaiting/streaming | bodyTooLarge | finish(answered: request body exceeds the size limit, upstream: close)
        awaiting/streaming | end | forwardRequestEnd
        awaiting/streaming | interimHead | forwardInterimHead
        awaiting/streaming | head | forwardResponseHead
        awaiting/streaming | keepAliveHead | forwardResponseHead
        awaiting/streaming | retriableHead | forwardResponseHead
        awaiting/streaming | responseBody | unexpected
        awaiting/streaming | responseEnd | unexpected
        awaiting/streaming | upstreamClosed | finish(answered: upstream closed the connection before responding, upstream: none)
        awaiting/streaming | readTimerEarly | scheduleReadTimer(20000 ms)
        awaiting/streaming | readTimerLate | finish(answered: upstream read timeout, upstream: close)
        awaiting/streaming | retryTimer | unexpected
        awaiting/streaming | clientGone | finish(abandoned: client disconnected before the response ended, upstream: close)
        awaiting/collecting | attachFresh | unexpected
        awaiting/collecting | attachReused | unexpected
        awaiting/collecting | connectFailed | unexpected
        awaiting/collecting | body | collectRequestBody
        awaiting/collecting | bodyTooLarge | finish(answered: request body exceeds the size limit, upstream: close)
        awaiting/collecting | end | sendCollectedRequest(upstreamAttached: true)
        awaiting/collecting | interimHead | forwardInterimHead
        awaiting/collecting | head | forwardResponseHead
        awaiting/collecting | keepAliveHead | forwardResponseHead
        awaiting/collecting | retriableHead | forwardResponseHead
        awaiting/collecting | responseBody | unexpected
        awaiting/collecting | responseEnd | unexpected
        awaiting/collecting | upstreamClosed | finish(answered: upstream closed the connection before responding, upstream: none)
        awaiting/collecting | readTimerEarly | scheduleReadTimer(20000 ms)
        awaiting/collecting | readTimerLate | finish(answered: upstream read timeout, upstream: close)
        awaiting/collecting | retryTimer | unexpected
        awaiting/collecting | clientGone | finish(abandoned: client disconnected before the response ended, upstream: close)
        awaiting/sent | attachFresh | unexpected
        awaiting/sent | attachReused | unexpected
        awaiting/sent | connectFailed | unexpected
        awaiting/sent | body | unexpected
        awaiting/sent | bodyTooLarge | unexpected
        awaiting/sent | end | unexpected
        awaiting/sent | interimHead | forwardInterimHead
        awaiting/sent | head | forwardResponseHead
        awaiting/sent | keepAliveHead | forwardResponseHead
        awaiting/sent | retriableHead | forwardResponseHead
        awaiting/sent | responseBody | unexpected
        awaiting/sent | responseEnd | unexpected
        awaiting/sent | upstreamClosed | finish(answered: upstream closed the connection before responding, upstream: none)
        awaiting/sent | readTimerEarly | scheduleReadTimer(20000 ms)
        awaiting/sent | readTimerLate | finish(answered: upstream read timeout, upstream: close)
        awaiting/sent | retryTimer | unexpected
        awaiting/sent | clientGone | finish(abandoned: client disconnected before the response ended, upstream: close)
        awaiting/sent reused | attachFresh | unexpected
        awaiting/sent reused | attachReused | unexpected
        awaiting/sent reused | connectFailed | unexpected
        awaiting/sent reused | body | unexpected
        awaiting/sent reused | bodyTooLarge | unexpected
        awaiting/sent reused | end | unexpected
        awaiting/sent reused | interimHead | forwardInterimHead
        awaiting/sent reused | head | forwardResponseHead
        awaiting/sent reused | keepAliveHead | forwardResponseHead
        awaiting/sent reused | retriableHead | forwardResponseHead
        awaiting/sent reused | responseBody | unexpected
        awaiting/sent reused | responseEnd | unexpected
        awaiting/sent reused | upstreamClosed | retry
        awaiting/sent reused | readTimerEarly | scheduleReadTimer(20000 ms)
        awaiting/sent reused | readTimerLate | finish(answered: upstream read timeout, upstream: close)
        awaiting/sent reused | retryTimer | unexpected
        awaiting/sent reused | clientGone | finish(abandoned: client disconnected before the response ended, upstream: close)
        streaming/streaming | attachFresh | unexpected
        streaming/streaming | attachReused | unexpected
        streaming/streaming | connectFailed | unexpected
        streaming/streaming | body | forwardRequestBody
        streaming/streaming | bodyTooLarge | finish(cut: request body exceeds the size limit, upstream: close)
        streaming/streaming | end | forwardRequestEnd
        streaming/streaming | interimHead | unexpected
        streaming/streaming | head | unexpected
        streaming/streaming | keepAliveHead | unexpected
        streaming/streaming | retriableHead | unexpected
        streaming/streaming | responseBody | forwardResponseBody
        streaming/streaming | responseEnd | finish(completed, upstream: close)
        streaming/streaming | upstreamClosed | finish(cut: upstream closed the connection mid-stream, upstream: none)
        streaming/streaming | readTimerEarly | scheduleReadTimer(20000 ms)
        streaming/streaming | readTimerLate | finish(cut: upstream read timeout, upstream: close)
        streaming/streaming | retryTimer | unexpected
        streaming/streaming | clientGone | finish(abandoned: client disconnected before the response ended, upstream: close)
        streaming/sent | attachFresh | unexpected
        streaming/sent | attachReused | unexpected
        streaming/sent | connectFailed | unexpected
        streaming/sent | body | unexpected
        streaming/sent | bodyTooLarge | unexpected
        streaming/sent | end | unexpected
        streaming/sent | interimHead | unexpected
        streaming/sent | head | unexpected
        streaming/sent | keepAliveHead | unexpected
        streaming/sent | retriableHead | unexpected
        streaming/sent | responseBody | forwardResponseBody
        streaming/sent | responseEnd | finish(completed, upstream: release)
        streaming/sent | upstreamClosed | finish(cut: upstream closed the connection mid-stream, upstream: none)
        streaming/sent | readTimerEarly | scheduleReadTimer(20000 ms)
        streaming/sent | readTimerLate | finish(cut: upstream read timeout, upstream: close)
        streaming/sent | retryTimer | unexpected
        streaming/sent | clientGone | finish(abandoned: client disconnected before the response ended, upstream: close)
        finished | attachFresh | discardUpstream
        finished | attachReused | discardUpstream
        finished | connectFailed | none
        finished | body | dropRequestPart
        finished | bodyTooLarge | dropRequestPart
        finished | end | dropRequestPart
        finished | interimHead | none
        finished | head | none
        finished | keepAliveHead | none
        finished | retriableHead | none
        finished | responseBody | none
        finished | responseEnd | none
        finished | upstreamClosed | none
        finished | readTimerEarly | none
        finished | readTimerLate | none
        finished | retryTimer | none
        finished | clientGone | none
        connecting/collecting retries | attachFresh | awaitCollectedBody
        connecting/collecting retries | attachReused | awaitCollectedBody
        connecting/collecting retries | connectFailed | finish(answered: upstream unreachable: refused, upstream: none)
        connecting/collecting retries | body | collectRequestBody
        connecting/collecting retries | bodyTooLarge | finish(answered: request body exceeds the size limit, upstream: none)
        connecting/collecting retries | end | sendCollectedRequest(upstreamAttached: false)
        connecting/collecting retries | interimHead | unexpected
        connecting/collecting retries | head | unexpected
        connecting/collecting retries | keepAliveHead | unexpected
        connecting/collecting retries | retriableHead | unexpected
        connecting/collecting retries | responseBody | unexpected
        connecting/collecting retries | responseEnd | unexpected
        connecting/collecting retries | upstreamClosed | unexpected
        connecting/collecting retries | readTimerEarly | none
        connecting/collecting retries | readTimerLate | none
        connecting/collecting retries | retryTimer | unexpected
        connecting/collecting retries | clientGone | finish(abandoned: client disconnected before the response ended, upstream: none)
        awaiting/sent retries | attachFresh | unexpected
        awaiting/sent retries | attachReused | unexpected
        awaiting/sent retries | connectFailed | unexpected
        awaiting/sent retries | body | unexpected
        awaiting/sent retries | bodyTooLarge | unexpected
        awaiting/sent retries | end | unexpected
        awaiting/sent retries | interimHead | forwardInterimHead
        awaiting/sent retries | head | forwardResponseHead
        awaiting/sent retries | keepAliveHead | forwardResponseHead
        awaiting/sent retries | retriableHead | discardResponseHead
        awaiting/sent retries | responseBody | unexpected
        awaiting/sent retries | responseEnd | unexpected
        awaiting/sent retries | upstreamClosed | attemptFailed(upstream closed the connection before responding, retryIn: 100 ms, upstream: none)
        awaiting/sent retries | readTimerEarly | scheduleReadTimer(20000 ms)
        awaiting/sent retries | readTimerLate | attemptFailed(upstream read timeout, retryIn: 100 ms, upstream: close)
        awaiting/sent retries | retryTimer | unexpected
        awaiting/sent retries | clientGone | finish(abandoned: client disconnected before the response ended, upstream: close)
        discarding | attachFresh | unexpected
        discarding | attachReused | unexpected
        discarding | connectFailed | unexpected
        discarding | body | unexpected
        discarding | bodyTooLarge | unexpected
        discarding | end | unexpected
        discarding | interimHead | unexpected
        discarding | head | unexpected
        discarding | keepAliveHead | unexpected
        discarding | retriableHead | unexpected
        discarding | responseBody | discardResponseBody
        discarding | responseEnd | attemptFailed(status 503, retryIn: 100 ms, upstream: release)
        discarding | upstreamClosed | attemptFailed(status 503, retryIn: 100 ms, upstream: none)
        discarding | readTimerEarly | scheduleReadTimer(20000 ms)
        discarding | readTimerLate | attemptFailed(status 503, retryIn: 100 ms, upstream: close)
        discarding | retryTimer | unexpected
        discarding | clientGone | finish(abandoned: client disconnected before the response ended, upstream: close)
        waiting to retry | attachFresh | unexpected
        waiting to retry | attachReused | unexpected
        waiting to retry | connectFailed | unexpected
        waiting to retry | body | unexpected
        waiting to retry | bodyTooLarge | unexpected
        waiting to retry | end | unexpected
        waiting to retry | interimHead | unexpected
        waiting to retry | head | unexpected
        waiting to retry | keepAliveHead | unexpected
        waiting to retry | retriableHead | unexpected
        waiting to retry | responseBody | unexpected
        waiting to retry | responseEnd | unexpected
        waiting to retry | upstreamClosed | unexpected
        waiting to retry | readTimerEarly | none
        waiting to retry | readTimerLate | none
        waiting to retry | retryTimer | retry
        waiting to retry | clientGone | finish(abandoned: client disconnected before the response ended, upstream: none)
        """

    /// A short, stable name for an action, as the table writes it.
    static func name(_ action: Machine.Action) -> String {
        switch action {
        case .finish(let ending, let upstream):
            let how: String
            switch ending {
            case .completed: how = "completed"
            case .answered(let error): how = "answered: \(error.message)"
            case .cut(let error): how = "cut: \(error.message)"
            case .abandoned(let error): how = "abandoned: \(error.message)"
            case .servedFromCache: how = "servedFromCache"
            }
            return "finish(\(how), upstream: \(upstream))"
        case .scheduleReadTimer(let delay):
            return "scheduleReadTimer(\(delay.nanoseconds / 1_000_000) ms)"
        case .attemptFailed(let failure, let wait, let upstream):
            let why: String
            switch failure {
            case .error(let error): why = error.message
            case .status(let status): why = "status \(status)"
            }
            return "attemptFailed(\(why), retryIn: \(wait.nanoseconds / 1_000_000) ms, upstream: \(upstream))"
        default:
            return "\(action)"
        }
    }

    @Test func everyEventInEveryStateDoesWhatTheTableSays() throws {
        var expected: [String: String] = [:]
        for line in Self.table.split(separator: "\n") {
            let columns = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            try #require(columns.count == 3, "malformed line: \(line)")
            expected[columns[0] + " | " + columns[1]] = columns[2]
        }
        // The table names every pair, once.
        #expect(expected.count == Self.states.count * Event.allCases.count)
        for (stateName, start) in Self.states {
            for event in Event.allCases {
                var machine = start
                let action = event.apply(to: &machine)
                let key = stateName + " | " + event.rawValue
                #expect(Self.name(action) == expected[key], "\(key)")
            }
        }
    }

    @Test func theTableStatesAreTheStatesTheyAreNamedFor() {
        let states = Dictionary(uniqueKeysWithValues: Self.states.map { ($0.name, $0.machine) })
        #expect(states["connecting/collecting"]?.request == .collecting)
        #expect(states["connecting/received"]?.request == .received)
        #expect(states["awaiting/sent reused"]?.attempt?.reused == true)
        #expect(states["awaiting/sent"]?.request == .sent)
        #expect(states["streaming/streaming"]?.responseStarted == true)
        #expect(states["streaming/streaming"]?.request == .streaming)
        #expect(states["finished"]?.state == .finished(.abandoned(.clientDisconnected)))
    }

    // MARK: Stories

    @Test func aRequestStreamsUpAndTheResponseStreamsDown() {
        var machine = Self.machine()
        #expect(machine.clientBody(total: 5, limit: Self.limit, now: Self.at(1)) == .queueRequestBody)
        #expect(machine.upstreamAttached(reused: false, now: Self.at(2)) == .sendRequest(complete: false))
        #expect(machine.clientBody(total: 10, limit: Self.limit, now: Self.at(3)) == .forwardRequestBody)
        #expect(machine.clientEnd() == .forwardRequestEnd)
        #expect(machine.request == .sent)
        #expect(machine.upstreamHead(status: 200, keepAlive: true, now: Self.at(40)) == .forwardResponseHead)
        #expect(machine.ttft == nil)
        #expect(machine.upstreamBody(now: Self.at(45)) == .forwardResponseBody)
        #expect(machine.upstreamBody(now: Self.at(60)) == .forwardResponseBody)
        // Time to first token: the first body byte, on the injected clock.
        #expect(machine.ttft == .milliseconds(45))
        #expect(machine.upstreamEnd() == .finish(.completed, upstream: .release))
        #expect(machine.elapsed(Self.at(70)) == .milliseconds(70))
    }

    @Test func anEarlyAnswerDuringTheUploadEndsTheExchangeAndClosesTheUpstream() {
        var machine = Self.machine()
        _ = machine.upstreamAttached(reused: false, now: Self.at(1))
        #expect(machine.clientBody(total: 100, limit: Self.limit, now: Self.at(2)) == .forwardRequestBody)
        #expect(machine.upstreamHead(status: 413, keepAlive: true, now: Self.at(3)) == .forwardResponseHead)
        #expect(machine.upstreamBody(now: Self.at(4)) == .forwardResponseBody)
        // The upstream said keep-alive, but the rest of the request never reached it: the connection is not clean.
        #expect(machine.upstreamEnd() == .finish(.completed, upstream: .close))
        // What the client still sends is dropped.
        #expect(machine.clientBody(total: 200, limit: Self.limit, now: Self.at(5)) == .dropRequestPart)
        #expect(machine.clientEnd() == .dropRequestPart)
    }

    @Test func aCollectedBodyGoesUpWithItsHeadOnceComplete() {
        var machine = Self.machine(collecting: true)
        #expect(machine.upstreamAttached(reused: false, now: Self.at(1)) == .awaitCollectedBody)
        #expect(machine.clientBody(total: 100, limit: Self.limit, now: Self.at(2)) == .collectRequestBody)
        #expect(machine.clientEnd() == .sendCollectedRequest(upstreamAttached: true))
        #expect(machine.request == .sent)

        var late = Self.machine(collecting: true)
        #expect(late.clientEnd() == .sendCollectedRequest(upstreamAttached: false))
        // Collected and ended before the upstream came: the head and the kept parts go out together.
        #expect(late.upstreamAttached(reused: false, now: Self.at(1)) == .sendRequest(complete: true))
    }

    @Test func aReusedConnectionDroppedBeforeAnsweringIsRetriedOnceOnAFreshOne() {
        var machine = Self.machine(idempotent: true)
        _ = machine.clientEnd()
        #expect(machine.upstreamAttached(reused: true, now: Self.at(1)) == .sendRequest(complete: true))
        #expect(machine.upstreamClosed(cause: nil, replayable: true) == .retry)
        // The same attempt on a fresh connection: a reconnect is not a retry (no log of its own).
        #expect(machine.attempt == .init(number: 1, reused: false, responded: false, replay: true, reconnected: true))
        #expect(machine.upstreamAttached(reused: false, now: Self.at(2)) == .replayRequest)
        // The fresh connection is not reconnected again.
        #expect(
            machine.upstreamClosed(cause: nil, replayable: true)
                == .finish(.answered(.closedBeforeResponse), upstream: .none))
    }

    @Test func noRetryWhenItCouldChangeSomethingOrTheUpstreamHadAnswered() {
        // Not idempotent (a POST).
        var post = Self.machine(idempotent: false)
        _ = post.clientEnd()
        _ = post.upstreamAttached(reused: true, now: Self.at(1))
        #expect(
            post.upstreamClosed(cause: nil, replayable: true)
                == .finish(.answered(.closedBeforeResponse), upstream: .none))
        // The body was not recorded whole.
        var truncated = Self.machine(idempotent: true)
        _ = truncated.clientEnd()
        _ = truncated.upstreamAttached(reused: true, now: Self.at(1))
        #expect(
            truncated.upstreamClosed(cause: nil, replayable: false)
                == .finish(.answered(.closedBeforeResponse), upstream: .none))
        // An interim head came first: the upstream had seen the request.
        var answered = Self.machine(idempotent: true)
        _ = answered.clientEnd()
        _ = answered.upstreamAttached(reused: true, now: Self.at(1))
        #expect(answered.upstreamHead(status: 100, keepAlive: true, now: Self.at(2)) == .forwardInterimHead)
        #expect(
            answered.upstreamClosed(cause: nil, replayable: true)
                == .finish(.answered(.closedBeforeResponse), upstream: .none))
    }

    @Test func anUpstreamCutMidStreamCutsTheClientsResponse() {
        var machine = Self.machine()
        _ = machine.upstreamAttached(reused: false, now: Self.at(1))
        _ = machine.clientEnd()
        _ = machine.upstreamHead(status: 200, keepAlive: true, now: Self.at(2))
        _ = machine.upstreamBody(now: Self.at(3))
        #expect(
            machine.upstreamClosed(cause: HTTPParserError.invalidEOFState, replayable: true)
                == .finish(.cut(.closedMidStream), upstream: .none))
        #expect(machine.responseStarted)
        #expect(machine.upstreamBody(now: Self.at(4)) == .none)
    }

    @Test func theReadTimeoutCountsFromTheLastUpstreamByteOnTheInjectedClock() {
        var machine = Self.machine()
        _ = machine.upstreamAttached(reused: false, now: Self.at(0))
        _ = machine.clientEnd()
        // Fired on schedule with nothing heard: a 504 before the response started.
        var quiet = machine
        #expect(
            quiet.readTimerFired(now: Self.at(30_000)) == .finish(.answered(.readTimeout), upstream: .close))
        // A byte at 20 s pushes the deadline to 50 s.
        _ = machine.upstreamHead(status: 200, keepAlive: true, now: Self.at(10_000))
        _ = machine.upstreamBody(now: Self.at(20_000))
        #expect(machine.readTimerFired(now: Self.at(30_000)) == .scheduleReadTimer(.seconds(20)))
        #expect(machine.readTimerFired(now: Self.at(49_999)) == .scheduleReadTimer(.milliseconds(1)))
        #expect(machine.readTimerFired(now: Self.at(50_000)) == .finish(.cut(.readTimeout), upstream: .close))
    }

    /// `request_timeout`: the first response byte must come within it of the exchange's start; a 504
    /// `request_timeout` otherwise, whatever the read timeout. Once a byte came, only the read timeout applies.
    @Test func theRequestTimeoutRunsToTheFirstResponseHeadOnTheInjectedClock() {
        var machine = Machine(
            start: Self.t0, collectsBody: false, readTimeout: Self.timeout, idempotent: false, http10Client: false,
            requestTimeout: .milliseconds(800))
        #expect(machine.firstTimerDelay(now: Self.at(100)) == .milliseconds(700))
        _ = machine.upstreamAttached(reused: false, now: Self.at(100))
        _ = machine.clientEnd()
        var late = machine
        #expect(late.readTimerFired(now: Self.at(700)) == .scheduleReadTimer(.milliseconds(100)))
        #expect(late.readTimerFired(now: Self.at(800)) == .finish(.answered(.requestTimeout), upstream: .close))
        // An interim head is a response byte: from then on the read timeout counts.
        var interim = machine
        _ = interim.upstreamHead(status: 100, keepAlive: true, now: Self.at(300))
        #expect(interim.readTimerFired(now: Self.at(800)) == .scheduleReadTimer(.seconds(30) - .milliseconds(500)))
        // The head in time: from then on the read timeout counts from the last byte.
        _ = machine.upstreamHead(status: 200, keepAlive: true, now: Self.at(500))
        #expect(machine.readTimerFired(now: Self.at(800)) == .scheduleReadTimer(.milliseconds(29_700)))
        // Without a request timeout the first timer is the read timeout.
        #expect(Self.machine().firstTimerDelay(now: Self.at(100)) == Self.timeout)
    }

    @Test func anHTTP10ClientGetsNoInterimHead() {
        var machine = Self.machine(http10: true)
        _ = machine.upstreamAttached(reused: false, now: Self.at(0))
        #expect(machine.upstreamHead(status: 103, keepAlive: true, now: Self.at(1)) == .dropInterimHead)
        #expect(machine.upstreamHead(status: 200, keepAlive: true, now: Self.at(2)) == .forwardResponseHead)
    }

    @Test func anUpstreamFailingAtConnectIsAnsweredByTheGateway() {
        var machine = Self.machine()
        #expect(
            machine.upstreamConnectFailed(.connectTimeout) == .finish(.answered(.connectTimeout), upstream: .none))
        #expect(!machine.responseStarted)
        // A connection that completes afterwards is closed.
        #expect(machine.upstreamAttached(reused: false, now: Self.at(1)) == .discardUpstream)
    }

    // MARK: Retries and steps

    @Test func aRetriableStatusIsReadAsideAndTriedAgainAfterTheBackoff() {
        var machine = Self.retrying()
        #expect(machine.clientEnd() == .sendCollectedRequest(upstreamAttached: false))
        #expect(machine.upstreamAttached(reused: false, now: Self.at(1)) == .sendRequest(complete: true))
        // 503: the head and body go to the attempt's record, not to the client.
        #expect(machine.upstreamHead(status: 503, keepAlive: true, now: Self.at(10)) == .discardResponseHead)
        #expect(!machine.responseStarted)
        #expect(machine.upstreamBody(now: Self.at(11)) == .discardResponseBody)
        #expect(machine.upstreamEnd() == .attemptFailed(.status(503), retryIn: .milliseconds(100), upstream: .release))
        #expect(
            machine.state == .waitingToRetry(.init(number: 2, inStep: 2, reused: false, responded: false, replay: true))
        )
        #expect(machine.retryTimerFired(now: Self.at(111)) == .retry)
        #expect(machine.upstreamAttached(reused: false, now: Self.at(112)) == .replayRequest)
        // The second attempt's duration and TTFT count from its own start.
        #expect(machine.upstreamHead(status: 429, keepAlive: true, now: Self.at(120)) == .discardResponseHead)
        // Exponential: 100 ms, then 200 ms.
        #expect(machine.upstreamEnd() == .attemptFailed(.status(429), retryIn: .milliseconds(200), upstream: .release))
        #expect(machine.retryTimerFired(now: Self.at(320)) == .retry)
        #expect(machine.upstreamAttached(reused: false, now: Self.at(321)) == .replayRequest)
        // The last attempt's answer goes to the client, whatever it is.
        #expect(machine.upstreamHead(status: 503, keepAlive: true, now: Self.at(330)) == .forwardResponseHead)
        #expect(machine.upstreamBody(now: Self.at(335)) == .forwardResponseBody)
        #expect(machine.ttft == .milliseconds(15))
        #expect(machine.elapsed(Self.at(340)) == .milliseconds(20))
        #expect(machine.upstreamEnd() == .finish(.completed, upstream: .release))
        #expect(machine.attempt == nil)
    }

    @Test func anUpstreamRetryAfterLengthensTheWaitUpToFiveSeconds() {
        var machine = Self.retrying(RetryPolicy(maxAttempts: 2, delay: 100, backoff: .constant))
        _ = machine.clientEnd()
        _ = machine.upstreamAttached(reused: false, now: Self.at(1))
        #expect(
            machine.upstreamHead(status: 429, keepAlive: false, now: Self.at(2), retryAfter: 60_000)
                == .discardResponseHead)
        #expect(machine.upstreamEnd() == .attemptFailed(.status(429), retryIn: .seconds(5), upstream: .close))
    }

    @Test func statusesThatARetryCannotHelpGoStraightToTheClient() {
        for status: UInt in [200, 400, 401, 404, 501] {
            var machine = Self.retrying()
            _ = machine.clientEnd()
            _ = machine.upstreamAttached(reused: false, now: Self.at(1))
            #expect(machine.upstreamHead(status: status, keepAlive: true, now: Self.at(2)) == .forwardResponseHead)
        }
        for status: UInt in [429, 500, 502, 503, 504, 529] {
            var machine = Self.retrying()
            _ = machine.clientEnd()
            _ = machine.upstreamAttached(reused: false, now: Self.at(1))
            #expect(machine.upstreamHead(status: status, keepAlive: true, now: Self.at(2)) == .discardResponseHead)
        }
    }

    @Test func connectErrorsAndTimeoutsBeforeTheFirstByteAreRetried() {
        var machine = Self.retrying(requestTimeout: .milliseconds(500))
        _ = machine.clientEnd()
        #expect(
            machine.upstreamConnectFailed(.unreachable("refused"))
                == .attemptFailed(.error(.unreachable("refused")), retryIn: .milliseconds(100), upstream: .none))
        #expect(machine.retryTimerFired(now: Self.at(100)) == .retry)
        _ = machine.upstreamAttached(reused: false, now: Self.at(101))
        // The request timeout counts from the attempt's start (100 ms), not the exchange's.
        #expect(machine.firstTimerDelay(now: Self.at(101)) == .milliseconds(499))
        #expect(machine.readTimerFired(now: Self.at(550)) == .scheduleReadTimer(.milliseconds(50)))
        #expect(
            machine.readTimerFired(now: Self.at(600))
                == .attemptFailed(.error(.requestTimeout), retryIn: .milliseconds(200), upstream: .close))
        #expect(machine.retryTimerFired(now: Self.at(800)) == .retry)
        _ = machine.upstreamAttached(reused: false, now: Self.at(801))
        // No attempt left: the gateway answers 504 request_timeout.
        #expect(machine.readTimerFired(now: Self.at(1300)) == .finish(.answered(.requestTimeout), upstream: .close))
    }

    @Test func noRetryOnceAnyResponseByteReachedTheClient() {
        // An interim head went out: a failure afterwards is answered, not retried.
        var interim = Self.retrying()
        _ = interim.clientEnd()
        _ = interim.upstreamAttached(reused: false, now: Self.at(1))
        #expect(interim.upstreamHead(status: 100, keepAlive: true, now: Self.at(2)) == .forwardInterimHead)
        #expect(interim.upstreamHead(status: 503, keepAlive: true, now: Self.at(3)) == .forwardResponseHead)
        // A cut mid-stream stays a cut.
        var streaming = Self.retrying()
        _ = streaming.clientEnd()
        _ = streaming.upstreamAttached(reused: false, now: Self.at(1))
        _ = streaming.upstreamHead(status: 200, keepAlive: true, now: Self.at(2))
        #expect(
            streaming.upstreamClosed(cause: nil, replayable: true)
                == .finish(.cut(.closedMidStream), upstream: .none))
        // The body was not collected (no retry configured when the request started streaming).
        var streamed = Self.machine()
        _ = streamed.upstreamAttached(reused: false, now: Self.at(1))
        _ = streamed.clientEnd()
        #expect(streamed.upstreamHead(status: 503, keepAlive: true, now: Self.at(2)) == .forwardResponseHead)
    }

    @Test func theClientLeavingBetweenAttemptsEndsTheExchange() {
        var machine = Self.retrying()
        _ = machine.clientEnd()
        _ = machine.upstreamConnectFailed(.connectTimeout)
        #expect(machine.clientGone() == .finish(.abandoned(.clientDisconnected), upstream: .none))
        #expect(machine.retryTimerFired(now: Self.at(200)) == .none)
    }

    @Test func aStepOutOfAttemptsFallsBackToTheNextAtOnce() {
        let steps = [
            Machine.Step(retry: RetryPolicy(maxAttempts: 2, delay: 50, backoff: .constant), requestTimeout: nil),
            Machine.Step(retry: .none, requestTimeout: .milliseconds(300)),
        ]
        var machine = Machine(
            start: Self.t0, collectsBody: true, readTimeout: Self.timeout, idempotent: false, http10Client: false,
            steps: steps)
        _ = machine.clientEnd()
        _ = machine.upstreamAttached(reused: false, now: Self.at(1))
        _ = machine.upstreamHead(status: 500, keepAlive: false, now: Self.at(2))
        #expect(machine.upstreamEnd() == .attemptFailed(.status(500), retryIn: .milliseconds(50), upstream: .close))
        #expect(machine.retryTimerFired(now: Self.at(52)) == .retry)
        #expect(machine.attempt?.step == 0)
        _ = machine.upstreamAttached(reused: false, now: Self.at(53))
        #expect(
            machine.upstreamClosed(cause: nil, replayable: true)
                == .attemptFailed(.error(.closedBeforeResponse), retryIn: .zero, upstream: .none))
        #expect(machine.retryTimerFired(now: Self.at(60)) == .retry)
        #expect(machine.attempt == .init(number: 3, step: 1, inStep: 1, reused: false, responded: false, replay: true))
        #expect(machine.requestTimeout == .milliseconds(300))
        _ = machine.upstreamAttached(reused: false, now: Self.at(61))
        // The last step's failure is the answer.
        #expect(machine.upstreamHead(status: 500, keepAlive: true, now: Self.at(70)) == .forwardResponseHead)
    }
}
