import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import TollgateGateway

/// `ConnectionStateMachine` alone, without sockets: the transition table, pipelining across both paths, the idle
/// timeout on a manual clock, graceful shutdown and half-close.
struct ConnectionStateMachineTests {
    typealias Machine = ConnectionStateMachine

    static let t0 = NIODeadline.uptimeNanoseconds(5_000_000_000)
    static func at(_ milliseconds: Int64) -> NIODeadline { t0 + .milliseconds(milliseconds) }

    static let proxyHead = HTTPServerRequestPart.head(
        HTTPRequestHead(version: .http1_1, method: .POST, uri: "/v1/acct/gw/openai/chat/completions"))
    static let apiHead = HTTPServerRequestPart.head(
        HTTPRequestHead(version: .http1_1, method: .GET, uri: "/api/v1/accounts"))
    static let body = HTTPServerRequestPart.body(ByteBuffer(string: "{}"))
    static let end = HTTPServerRequestPart.end(nil)

    static func machine(idleTimeout: TimeAmount? = .seconds(60)) -> Machine {
        Machine(now: t0, idleTimeout: idleTimeout)
    }

    // MARK: The transition table

    enum Event: String, CaseIterable {
        case proxyHead, apiHead, body, end, responseEnded, responseEndedClose, hummingbirdEnded, quiesce, idleCheck
        case read, readBlocked, outputClose, errorCaught, inactive

        func apply(to machine: inout Machine) -> String {
            let now = ConnectionStateMachineTests.at(100)
            switch self {
            case .proxyHead: return "\(machine.received(ConnectionStateMachineTests.proxyHead, now: now))"
            case .apiHead: return "\(machine.received(ConnectionStateMachineTests.apiHead, now: now))"
            case .body: return "\(machine.received(ConnectionStateMachineTests.body, now: now))"
            case .end: return "\(machine.received(ConnectionStateMachineTests.end, now: now))"
            case .responseEnded: return "\(machine.responseEnded(keepAlive: true, now: now))"
            case .responseEndedClose: return "\(machine.responseEnded(keepAlive: false, now: now))"
            case .hummingbirdEnded: return "\(machine.hummingbirdResponseEnded(now: now))"
            case .quiesce: return "\(machine.quiesce())"
            case .idleCheck: return "\(machine.idleCheck(now: ConnectionStateMachineTests.at(120_000)))"
            case .read: return "\(machine.read(exchangeBlocksReads: false))"
            case .readBlocked: return "\(machine.read(exchangeBlocksReads: true))"
            case .outputClose: return "\(machine.outputCloseRequested())"
            case .errorCaught: return machine.errorCaught() ? "close" : "toHummingbird"
            case .inactive: return "\(machine.inactive())"
            }
        }
    }

    static let states: [(name: String, machine: Machine)] = {
        func drive(_ steps: (inout Machine) -> Void) -> Machine {
            var machine = machine()
            steps(&machine)
            return machine
        }
        let now = at(10)
        return [
            ("idle", machine()),
            ("proxy receiving", drive { _ = $0.received(proxyHead, now: now) }),
            (
                "proxy responding",
                drive {
                    _ = $0.received(proxyHead, now: now)
                    _ = $0.received(end, now: now)
                }
            ),
            (
                "proxy answered, receiving",
                drive {
                    _ = $0.received(proxyHead, now: now)
                    _ = $0.responseEnded(keepAlive: true, now: now)
                }
            ),
            (
                "api responding",
                drive {
                    _ = $0.received(apiHead, now: now)
                    _ = $0.received(end, now: now)
                }
            ),
            (
                "holding",
                drive {
                    _ = $0.received(proxyHead, now: now)
                    _ = $0.received(end, now: now)
                    _ = $0.received(apiHead, now: now)
                }
            ),
            (
                "closing",
                drive {
                    _ = $0.received(proxyHead, now: now)
                    _ = $0.received(end, now: now)
                    _ = $0.responseEnded(keepAlive: false, now: now)
                }
            ),
            ("closed", drive { _ = $0.inactive() }),
        ]
    }()

    static let table = """
        idle | proxyHead | startExchange
        idle | apiHead | toHummingbird
        idle | body | drop
        idle | end | drop
        idle | responseEnded | unexpected
        idle | responseEndedClose | unexpected
        idle | hummingbirdEnded | unexpected
        idle | quiesce | forwardToHummingbird
        idle | idleCheck | close
        idle | read | read
        idle | readBlocked | read
        idle | outputClose | closeOutput
        idle | errorCaught | toHummingbird
        idle | inactive | none
        proxy receiving | proxyHead | hold
        proxy receiving | apiHead | hold
        proxy receiving | body | toExchange
        proxy receiving | end | toExchange
        proxy receiving | responseEnded | releaseHeld(closeOutput: false)
        proxy receiving | responseEndedClose | close
        proxy receiving | hummingbirdEnded | unexpected
        proxy receiving | quiesce | closeAfterExchange
        proxy receiving | idleCheck | checkAgain(after: 60 s)
        proxy receiving | read | read
        proxy receiving | readBlocked | pend
        proxy receiving | outputClose | deferUntilExchangeEnds
        proxy receiving | errorCaught | close
        proxy receiving | inactive | abandonExchange
        proxy responding | proxyHead | hold
        proxy responding | apiHead | hold
        proxy responding | body | drop
        proxy responding | end | drop
        proxy responding | responseEnded | releaseHeld(closeOutput: false)
        proxy responding | responseEndedClose | close
        proxy responding | hummingbirdEnded | unexpected
        proxy responding | quiesce | closeAfterExchange
        proxy responding | idleCheck | checkAgain(after: 60 s)
        proxy responding | read | read
        proxy responding | readBlocked | pend
        proxy responding | outputClose | deferUntilExchangeEnds
        proxy responding | errorCaught | close
        proxy responding | inactive | abandonExchange
        proxy answered, receiving | proxyHead | hold
        proxy answered, receiving | apiHead | hold
        proxy answered, receiving | body | drop
        proxy answered, receiving | end | drop
        proxy answered, receiving | responseEnded | unexpected
        proxy answered, receiving | responseEndedClose | unexpected
        proxy answered, receiving | hummingbirdEnded | unexpected
        proxy answered, receiving | quiesce | forwardToHummingbird
        proxy answered, receiving | idleCheck | checkAgain(after: 60 s)
        proxy answered, receiving | read | read
        proxy answered, receiving | readBlocked | read
        proxy answered, receiving | outputClose | closeOutput
        proxy answered, receiving | errorCaught | close
        proxy answered, receiving | inactive | none
        api responding | proxyHead | hold
        api responding | apiHead | hold
        api responding | body | drop
        api responding | end | drop
        api responding | responseEnded | releaseHeld(closeOutput: false)
        api responding | responseEndedClose | close
        api responding | hummingbirdEnded | releaseHeld(closeOutput: false)
        api responding | quiesce | forwardToHummingbird
        api responding | idleCheck | checkAgain(after: 60 s)
        api responding | read | read
        api responding | readBlocked | read
        api responding | outputClose | closeOutput
        api responding | errorCaught | toHummingbird
        api responding | inactive | none
        holding | proxyHead | hold
        holding | apiHead | hold
        holding | body | hold
        holding | end | hold
        holding | responseEnded | releaseHeld(closeOutput: false)
        holding | responseEndedClose | close
        holding | hummingbirdEnded | unexpected
        holding | quiesce | closeAfterExchange
        holding | idleCheck | checkAgain(after: 60 s)
        holding | read | pend
        holding | readBlocked | pend
        holding | outputClose | deferUntilExchangeEnds
        holding | errorCaught | close
        holding | inactive | abandonExchange
        closing | proxyHead | drop
        closing | apiHead | drop
        closing | body | drop
        closing | end | drop
        closing | responseEnded | unexpected
        closing | responseEndedClose | unexpected
        closing | hummingbirdEnded | unexpected
        closing | quiesce | none
        closing | idleCheck | stop
        closing | read | read
        closing | readBlocked | read
        closing | outputClose | closeOutput
        closing | errorCaught | toHummingbird
        closing | inactive | none
        closed | proxyHead | drop
        closed | apiHead | drop
        closed | body | drop
        closed | end | drop
        closed | responseEnded | unexpected
        closed | responseEndedClose | unexpected
        closed | hummingbirdEnded | unexpected
        closed | quiesce | none
        closed | idleCheck | stop
        closed | read | read
        closed | readBlocked | read
        closed | outputClose | closeOutput
        closed | errorCaught | toHummingbird
        closed | inactive | none
        """

    @Test func everyEventInEveryStateDoesWhatTheTableSays() throws {
        var expected: [String: String] = [:]
        for line in Self.table.split(separator: "\n") {
            let columns = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            try #require(columns.count == 3, "malformed line: \(line)")
            expected[columns[0] + " | " + columns[1]] = columns[2]
        }
        #expect(expected.count == Self.states.count * Event.allCases.count)
        for (stateName, start) in Self.states {
            for event in Event.allCases {
                var machine = start
                let key = stateName + " | " + event.rawValue
                #expect(event.apply(to: &machine) == expected[key], "\(key)")
            }
        }
    }

    // MARK: Stories

    @Test func pipelinedRequestsOnBothPathsAreAnsweredInOrder() {
        var machine = Self.machine()
        // A proxied request, then an API request and another proxied one, pipelined behind it.
        #expect(machine.received(Self.proxyHead, now: Self.at(1)) == .startExchange)
        #expect(machine.received(Self.body, now: Self.at(1)) == .toExchange)
        #expect(machine.received(Self.end, now: Self.at(1)) == .toExchange)
        #expect(machine.received(Self.apiHead, now: Self.at(2)) == .hold)
        #expect(machine.received(Self.end, now: Self.at(2)) == .hold)
        #expect(machine.received(Self.proxyHead, now: Self.at(2)) == .hold)
        #expect(machine.received(Self.end, now: Self.at(2)) == .hold)
        #expect(machine.held.count == 4)
        // Reads pause while anything is held.
        #expect(machine.read(exchangeBlocksReads: false) == .pend)
        // Nothing goes before the proxied response ended.
        #expect(machine.nextHeld(now: Self.at(3)) == nil)
        #expect(machine.responseEnded(keepAlive: true, now: Self.at(4)) == .releaseHeld(closeOutput: false))
        // The API request goes to Hummingbird whole; the proxied one waits for its response.
        #expect(machine.nextHeld(now: Self.at(4))?.1 == .toHummingbird)
        #expect(machine.nextHeld(now: Self.at(4))?.1 == .toHummingbird)
        #expect(machine.nextHeld(now: Self.at(4)) == nil)
        #expect(machine.resumeReads(exchangeBlocksReads: false) == .none)
        #expect(machine.hummingbirdResponseEnded(now: Self.at(5)) == .releaseHeld(closeOutput: false))
        #expect(machine.nextHeld(now: Self.at(5))?.1 == .startExchange)
        #expect(machine.nextHeld(now: Self.at(5))?.1 == .toExchange)
        #expect(machine.nextHeld(now: Self.at(5)) == nil)
        // Everything released: the pending read goes on.
        #expect(machine.resumeReads(exchangeBlocksReads: false) == .read)
        #expect(machine.responseEnded(keepAlive: true, now: Self.at(6)) == .releaseHeld(closeOutput: false))
        #expect(machine.state == .idle(since: Self.at(6)))
    }

    @Test func aProxiedRequestWithoutAnUpstreamYetPausesReads() {
        var machine = Self.machine()
        _ = machine.received(Self.proxyHead, now: Self.at(1))
        #expect(machine.read(exchangeBlocksReads: true) == .pend)
        #expect(machine.resumeReads(exchangeBlocksReads: true) == .none)
        #expect(machine.resumeReads(exchangeBlocksReads: false) == .read)
        #expect(machine.resumeReads(exchangeBlocksReads: false) == .none)
    }

    @Test func theIdleTimeoutCountsFromTheEndOfTheLastExchangeOnTheInjectedClock() {
        var machine = Self.machine(idleTimeout: .seconds(10))
        #expect(machine.idleCheck(now: Self.at(4_000)) == .checkAgain(after: .seconds(6)))
        _ = machine.received(Self.proxyHead, now: Self.at(5_000))
        _ = machine.received(Self.end, now: Self.at(5_000))
        // Busy for longer than the timeout: never closed under a request.
        #expect(machine.idleCheck(now: Self.at(30_000)) == .checkAgain(after: .seconds(10)))
        _ = machine.responseEnded(keepAlive: true, now: Self.at(31_000))
        #expect(machine.idleCheck(now: Self.at(40_999)) == .checkAgain(after: .milliseconds(1)))
        #expect(machine.idleCheck(now: Self.at(41_000)) == .close)
        #expect(machine.isClosing)
        #expect(machine.idleCheck(now: Self.at(50_000)) == .stop)
        // No timeout configured: no checks.
        var forever = Self.machine(idleTimeout: nil)
        #expect(forever.idleCheck(now: Self.at(1_000_000)) == .stop)
    }

    @Test func gracefulShutdownWithAnExchangeInFlightClosesWhenItEnds() {
        var machine = Self.machine()
        _ = machine.received(Self.proxyHead, now: Self.at(1))
        _ = machine.received(Self.end, now: Self.at(1))
        _ = machine.received(Self.apiHead, now: Self.at(2))
        #expect(machine.quiesce() == .closeAfterExchange)
        #expect(machine.held.isEmpty)
        #expect(machine.quiescing)
        // Even a keep-alive response closes now.
        #expect(machine.responseEnded(keepAlive: true, now: Self.at(3)) == .close)
        #expect(machine.state == .closing)
    }

    @Test func gracefulShutdownWhenIdleIsHummingbirdsAndLaterProxiedResponsesClose() {
        var machine = Self.machine()
        #expect(machine.quiesce() == .forwardToHummingbird)
        _ = machine.received(Self.proxyHead, now: Self.at(1))
        _ = machine.received(Self.end, now: Self.at(1))
        #expect(machine.responseEnded(keepAlive: true, now: Self.at(2)) == .close)
    }

    @Test func aHalfCloseDuringAProxiedResponseWaitsForItsEnd() {
        var machine = Self.machine()
        _ = machine.received(Self.proxyHead, now: Self.at(1))
        _ = machine.received(Self.end, now: Self.at(1))
        #expect(machine.outputCloseRequested() == .deferUntilExchangeEnds)
        #expect(machine.responseEnded(keepAlive: true, now: Self.at(2)) == .releaseHeld(closeOutput: true))
        // Done once.
        _ = machine.received(Self.apiHead, now: Self.at(3))
        #expect(machine.outputCloseRequested() == .closeOutput)
    }

    @Test func theClientGoingAwayAbandonsTheExchangeAndDropsHeldRequests() {
        var machine = Self.machine()
        _ = machine.received(Self.proxyHead, now: Self.at(1))
        _ = machine.received(Self.end, now: Self.at(1))
        _ = machine.received(Self.proxyHead, now: Self.at(1))
        #expect(machine.inactive() == .abandonExchange)
        #expect(machine.held.isEmpty)
        #expect(machine.state == .closed)
        #expect(machine.received(Self.end, now: Self.at(2)) == .drop)
    }
}
