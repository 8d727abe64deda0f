import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import TollgateModel

@testable import TollgateGateway

/// The proxy reads the time only from its injected `TollgateClock`: a recorded exchange's time, duration and time to first
/// token are what that clock says passed, whatever the machine's own clock did.
@Suite("Proxy clock")
struct ProxyClockTests {
    /// A clock that stands still until the test moves it.
    final class ManualClock: Sendable {
        private let nanoseconds = Mutex<Int64>(1_000_000_000)

        func advance(by amount: TimeAmount) { nanoseconds.withLock { $0 += amount.nanoseconds } }

        var clock: TollgateClock {
            TollgateClock(
                wallMilliseconds: { 1_800_000_000_000 + self.nanoseconds.withLock { $0 } / 1_000_000 },
                monotonicNanoseconds: { UInt64(self.nanoseconds.withLock { $0 }) })
        }
    }

    @Test func durationsAndTimeToFirstTokenComeFromTheInjectedClock() async throws {
        let clock = ManualClock()
        let gate = Gate()
        let upstream = try await TestUpstream { _, responder in
            // The provider "thinks" for 5 s before its first event; the rest comes once the client has that one.
            clock.advance(by: .seconds(5))
            try await responder.head(.ok, [("content-type", "text/event-stream")])
            try await responder.body("data: 1\n\n")
            try await gate.wait()
            try await responder.body("data: 2\n\n")
            try await responder.end()
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL], clock: clock.clock) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                try await client.send(.POST, TestGateway.path("openai", "/chat/completions"), body: "{}")
                #expect(try await client.readHead().status == .ok)
                guard case .body(let first) = try await client.nextPart() else {
                    Issue.record("expected the first event")
                    return
                }
                #expect(String(buffer: first) == "data: 1\n\n")
                // Two more seconds pass on the injected clock before the stream ends.
                clock.advance(by: .seconds(2))
                gate.open()
                while let part = try await client.nextPart() {
                    if case .end = part { break }
                }
            }
            let exchange = try #require(await gateway.sink.wait(for: 1).first)
            #expect(exchange.durationMicros == 7_000_000)
            #expect(exchange.ttftMicros == 5_000_000)
            // The record's time is the injected clock's when the request arrived, one second in.
            #expect(exchange.id.milliseconds == 1_800_000_001_000)
            #expect(exchange.startedAt == 1_800_000_001_000)
        }
    }
}
