import Foundation
import NIOCore
import Testing

@testable import TollgateGateway

/// The response cache's states of `ExchangeStateMachine`: every event in every cache state, every cache event in
/// every other state, then the stories (a hit with no upstream, a miss going upstream with the collected body, a
/// request waiting for an identical one in flight).
struct ExchangeStateMachineCacheTests {
    typealias Machine = ExchangeStateMachine
    typealias Base = ExchangeStateMachineTests

    static func cacheMachine() -> Machine {
        Machine(
            start: Base.t0, collectsBody: false, readTimeout: Base.timeout, idempotent: false, http10Client: false,
            cacheLookup: true)
    }

    /// The cache's events.
    enum CacheEvent: String, CaseIterable {
        case cacheHit, cacheMissed, waitForIdentical

        func apply(to machine: inout Machine) -> Machine.Action {
            switch self {
            case .cacheHit: machine.cacheHit()
            case .cacheMissed: machine.cacheMissed()
            case .waitForIdentical: machine.waitForIdentical()
            }
        }
    }

    /// Every event of either table, by name.
    static func apply(_ name: String, to machine: inout Machine) -> Machine.Action? {
        if let event = Base.Event(rawValue: name) { return event.apply(to: &machine) }
        return CacheEvent(rawValue: name)?.apply(to: &machine)
    }

    static let eventNames = Base.Event.allCases.map(\.rawValue) + CacheEvent.allCases.map(\.rawValue)

    /// The cache's states, each reached from a new exchange by real events.
    static let states: [(name: String, machine: Machine)] = {
        func drive(_ steps: (inout Machine) -> Void) -> Machine {
            var machine = cacheMachine()
            steps(&machine)
            return machine
        }
        return [
            ("cache/collecting", cacheMachine()),
            ("cache/lookingUp", drive { _ = $0.clientEnd() }),
            (
                "cache/waiting",
                drive {
                    _ = $0.clientEnd()
                    _ = $0.waitForIdentical()
                }
            ),
            (
                "cache/missed",
                drive {
                    _ = $0.clientEnd()
                    _ = $0.cacheMissed()
                }
            ),
            (
                "cache/served",
                drive {
                    _ = $0.clientEnd()
                    _ = $0.cacheHit()
                }
            ),
        ]
    }()

    static let abandoned = "finish(abandoned: client disconnected before the response ended, upstream: none)"

    /// Every event in every cache state.
    static let table = """
        cache/collecting | attachFresh | unexpected
        cache/collecting | attachReused | unexpected
        cache/collecting | connectFailed | unexpected
        cache/collecting | body | collectRequestBody
        cache/collecting | bodyTooLarge | finish(answered: request body exceeds the size limit, upstream: none)
        cache/collecting | end | lookUpCache
        cache/collecting | interimHead | unexpected
        cache/collecting | head | unexpected
        cache/collecting | keepAliveHead | unexpected
        cache/collecting | retriableHead | unexpected
        cache/collecting | retryTimer | unexpected
        cache/collecting | responseBody | unexpected
        cache/collecting | responseEnd | unexpected
        cache/collecting | upstreamClosed | unexpected
        cache/collecting | readTimerEarly | none
        cache/collecting | readTimerLate | none
        cache/collecting | clientGone | \(abandoned)
        cache/collecting | cacheHit | unexpected
        cache/collecting | cacheMissed | unexpected
        cache/collecting | waitForIdentical | unexpected
        cache/lookingUp | attachFresh | unexpected
        cache/lookingUp | attachReused | unexpected
        cache/lookingUp | connectFailed | unexpected
        cache/lookingUp | body | unexpected
        cache/lookingUp | bodyTooLarge | unexpected
        cache/lookingUp | end | unexpected
        cache/lookingUp | interimHead | unexpected
        cache/lookingUp | head | unexpected
        cache/lookingUp | keepAliveHead | unexpected
        cache/lookingUp | retriableHead | unexpected
        cache/lookingUp | retryTimer | unexpected
        cache/lookingUp | responseBody | unexpected
        cache/lookingUp | responseEnd | unexpected
        cache/lookingUp | upstreamClosed | unexpected
        cache/lookingUp | readTimerEarly | none
        cache/lookingUp | readTimerLate | none
        cache/lookingUp | clientGone | \(abandoned)
        cache/lookingUp | cacheHit | finish(servedFromCache, upstream: none)
        cache/lookingUp | cacheMissed | connectUpstream
        cache/lookingUp | waitForIdentical | none
        cache/waiting | attachFresh | unexpected
        cache/waiting | attachReused | unexpected
        cache/waiting | connectFailed | unexpected
        cache/waiting | body | unexpected
        cache/waiting | bodyTooLarge | unexpected
        cache/waiting | end | unexpected
        cache/waiting | interimHead | unexpected
        cache/waiting | head | unexpected
        cache/waiting | keepAliveHead | unexpected
        cache/waiting | retriableHead | unexpected
        cache/waiting | retryTimer | unexpected
        cache/waiting | responseBody | unexpected
        cache/waiting | responseEnd | unexpected
        cache/waiting | upstreamClosed | unexpected
        cache/waiting | readTimerEarly | none
        cache/waiting | readTimerLate | none
        cache/waiting | clientGone | \(abandoned)
        cache/waiting | cacheHit | finish(servedFromCache, upstream: none)
        cache/waiting | cacheMissed | connectUpstream
        cache/waiting | waitForIdentical | unexpected
        cache/missed | attachFresh | sendRequest(complete: true)
        cache/missed | attachReused | sendRequest(complete: true)
        cache/missed | connectFailed | finish(answered: upstream unreachable: refused, upstream: none)
        cache/missed | body | unexpected
        cache/missed | bodyTooLarge | unexpected
        cache/missed | end | unexpected
        cache/missed | interimHead | unexpected
        cache/missed | head | unexpected
        cache/missed | keepAliveHead | unexpected
        cache/missed | retriableHead | unexpected
        cache/missed | retryTimer | unexpected
        cache/missed | responseBody | unexpected
        cache/missed | responseEnd | unexpected
        cache/missed | upstreamClosed | unexpected
        cache/missed | readTimerEarly | none
        cache/missed | readTimerLate | none
        cache/missed | clientGone | \(abandoned)
        cache/missed | cacheHit | unexpected
        cache/missed | cacheMissed | unexpected
        cache/missed | waitForIdentical | unexpected
        cache/served | attachFresh | discardUpstream
        cache/served | attachReused | discardUpstream
        cache/served | connectFailed | none
        cache/served | body | dropRequestPart
        cache/served | bodyTooLarge | dropRequestPart
        cache/served | end | dropRequestPart
        cache/served | interimHead | none
        cache/served | head | none
        cache/served | keepAliveHead | none
        cache/served | retriableHead | none
        cache/served | retryTimer | none
        cache/served | responseBody | none
        cache/served | responseEnd | none
        cache/served | upstreamClosed | none
        cache/served | readTimerEarly | none
        cache/served | readTimerLate | none
        cache/served | clientGone | none
        cache/served | cacheHit | none
        cache/served | cacheMissed | none
        cache/served | waitForIdentical | none
        """

    static func expectations(_ table: String) throws -> [String: String] {
        var expected: [String: String] = [:]
        for line in table.split(separator: "\n") {
            let columns = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            try #require(columns.count == 3, "malformed line: \(line)")
            expected[columns[0] + " | " + columns[1]] = columns[2]
        }
        return expected
    }

    @Test func everyEventInEveryCacheStateDoesWhatTheTableSays() throws {
        let expected = try Self.expectations(Self.table)
        #expect(expected.count == Self.states.count * Self.eventNames.count)
        for (stateName, start) in Self.states {
            for event in Self.eventNames {
                var machine = start
                let action = try #require(Self.apply(event, to: &machine))
                let key = stateName + " | " + event
                #expect(Base.name(action) == expected[key], "\(key)")
            }
        }
    }

    /// Outside its own states the cache's events cannot happen, except after the end, where they are ignored (a
    /// lookup or an identical request landing after the client went away).
    @Test func cacheEventsInEveryOtherState() {
        for (stateName, start) in Base.states {
            for event in CacheEvent.allCases {
                var machine = start
                let action = event.apply(to: &machine)
                #expect(action == (start.isFinished ? .none : .unexpected), "\(stateName) | \(event)")
                #expect(machine.state == start.state, "\(stateName) | \(event) leaves the state as it was")
            }
        }
    }

    @Test func theCacheStatesAreTheStatesTheyAreNamedFor() {
        let states = Dictionary(uniqueKeysWithValues: Self.states.map { ($0.name, $0.machine) })
        #expect(states["cache/collecting"]?.state == .collectingForCache)
        #expect(states["cache/collecting"]?.request == .collecting)
        #expect(states["cache/lookingUp"]?.state == .lookingUpCache)
        #expect(states["cache/lookingUp"]?.request == .received)
        #expect(states["cache/waiting"]?.state == .waitingForIdentical)
        #expect(states["cache/missed"]?.attempt == .init(number: 1, reused: false, responded: false, replay: false))
        #expect(states["cache/served"]?.state == .finished(.servedFromCache))
        // Only while the key's body is collected does the client's upload go on with no upstream attached.
        #expect(states["cache/collecting"]?.readsWithoutUpstream == true)
        #expect(states["cache/lookingUp"]?.readsWithoutUpstream == false)
        #expect(Base.machine(collecting: true).readsWithoutUpstream == false)
    }

    // MARK: Stories

    @Test func aHitIsAnsweredWithoutAnyUpstream() {
        var machine = Self.cacheMachine()
        #expect(machine.clientBody(total: 40, limit: Base.limit, now: Base.at(1)) == .collectRequestBody)
        #expect(machine.clientEnd() == .lookUpCache)
        #expect(!machine.hasUpstream)
        #expect(machine.cacheHit() == .finish(.servedFromCache, upstream: .none))
        #expect(machine.attempt == nil)
        // A connection that shows up anyway is not used.
        #expect(machine.upstreamAttached(reused: true, now: Base.at(2)) == .discardUpstream)
    }

    @Test func aMissGoesUpstreamWithTheCollectedBody() {
        var machine = Self.cacheMachine()
        _ = machine.clientBody(total: 40, limit: Base.limit, now: Base.at(1))
        #expect(machine.clientEnd() == .lookUpCache)
        #expect(machine.cacheMissed() == .connectUpstream)
        // The whole request is at hand: head and body go out together on the connection.
        #expect(machine.upstreamAttached(reused: false, now: Base.at(5)) == .sendRequest(complete: true))
        #expect(machine.request == .sent)
        #expect(machine.upstreamHead(status: 200, keepAlive: true, now: Base.at(20)) == .forwardResponseHead)
        #expect(machine.upstreamBody(now: Base.at(25)) == .forwardResponseBody)
        #expect(machine.upstreamEnd() == .finish(.completed, upstream: .release))
    }

    @Test func aWaiterIsAnsweredFromTheIdenticalRequestOrGoesUpstreamWhenItFailed() {
        var waiter = Self.cacheMachine()
        _ = waiter.clientEnd()
        #expect(waiter.waitForIdentical() == .none)
        var answered = waiter
        #expect(answered.cacheHit() == .finish(.servedFromCache, upstream: .none))
        #expect(waiter.cacheMissed() == .connectUpstream)
        #expect(waiter.upstreamAttached(reused: true, now: Base.at(3)) == .sendRequest(complete: true))
    }

    @Test func aClientGoneWhileWaitingIgnoresTheLateAnswer() {
        var machine = Self.cacheMachine()
        _ = machine.clientEnd()
        _ = machine.waitForIdentical()
        #expect(machine.clientGone() == .finish(.abandoned(.clientDisconnected), upstream: .none))
        #expect(machine.cacheHit() == .none)
        #expect(machine.cacheMissed() == .none)
    }

    @Test func aBodyOverTheLimitWhileCollectingForTheKeyIsAnsweredByTheGateway() {
        var machine = Self.cacheMachine()
        #expect(
            machine.clientBody(total: Int64(Base.limit) + 1, limit: Base.limit, now: Base.at(1))
                == .finish(.answered(.requestTooLarge), upstream: .none))
    }
}
