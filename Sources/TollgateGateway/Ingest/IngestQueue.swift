import Logging
import NIOCore
import TollgateModel

/// The bounded queue between the proxy and the store.
///
/// `submit` is called on event loops: it takes a lock for a few instructions, appends or drops, and wakes the
/// store's thread if it waits for exchanges. It never waits and never fails the response. When the queue is full the exchange is
/// dropped and counted; the count is served by the API (`GET /api/v1/ingest`) and a warning is logged (at most
/// once per `dropLogInterval`).
public final class IngestQueue: ExchangeSink, Sendable {
    public struct Counters: Sendable, Equatable {
        /// Exchanges accepted onto the queue since start.
        public var accepted: Int
        /// Exchanges dropped because the queue was full.
        public var dropped: Int
        /// Exchanges waiting now.
        public var queued: Int

        public init(accepted: Int, dropped: Int, queued: Int) {
            self.accepted = accepted
            self.dropped = dropped
            self.queued = queued
        }
    }

    private struct State {
        /// A ring, so a batch taken off the front of a backlog moves nothing else.
        var buffer = CircularBuffer<Exchange>()
        /// The store's thread waits in `take` for a `signal`.
        var consumerWaits = false
        var accepted = 0
        var dropped = 0
        /// When a drop was last logged (`clock`'s monotonic nanoseconds).
        var lastDropLog: UInt64?
        var closed = false
    }

    public let capacity: Int
    private let state = BlockingMutex(State())
    private let logger: Logger
    /// Drops are logged at most once per interval.
    private let dropLogInterval: UInt64 = 10_000_000_000
    private let clock: TollgateClock
    /// Called with each dropped exchange (off the lock), e.g. to give back its log quota reservation.
    private let onDrop: (@Sendable (Exchange) -> Void)?

    public init(
        capacity: Int = 65_536, clock: TollgateClock = .system, logger: Logger,
        onDrop: (@Sendable (Exchange) -> Void)? = nil
    ) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.clock = clock
        self.logger = logger
        self.onDrop = onDrop
    }

    public func submit(_ exchange: Exchange) {
        enum Outcome { case queued(wake: Bool), dropped(total: Int, log: Bool) }
        let outcome: Outcome = state.withLock { s in
            if s.buffer.count >= capacity || s.closed {
                s.dropped += 1
                let now = clock.monotonicNanoseconds()
                let log = s.lastDropLog.map { now &- $0 >= dropLogInterval } ?? true
                if log { s.lastDropLog = now }
                return .dropped(total: s.dropped, log: log)
            }
            s.buffer.append(exchange)
            s.accepted += 1
            defer { s.consumerWaits = false }
            return .queued(wake: s.consumerWaits)
        }
        switch outcome {
        case .queued(let wake):
            if wake { state.signal() }
        case .dropped(let total, let log):
            onDrop?(exchange)
            if log {
                logger.warning(
                    "ingest queue full: log record dropped",
                    metadata: ["ingest.dropped_total": "\(total)", "ingest.capacity": "\(capacity)"]
                )
            }
        }
    }

    /// Exchanges taken off the queue together, in the order they were submitted.
    public typealias Batch = CircularBuffer<Exchange>

    /// Takes up to `max` exchanges, blocking the calling thread (the store's) while the queue is empty, at most until
    /// `deadline`: an empty batch when the deadline passed with nothing queued, nil after `close()` once the queue
    /// is drained. One consumer at a time.
    public func take(max: Int, waitingUntil deadline: NIODeadline) -> Batch? {
        let taken: Batch?? = state.wait(until: deadline) { s in
            if s.buffer.isEmpty {
                if s.closed { return .some(nil) }
                s.consumerWaits = true
                return nil
            }
            s.consumerWaits = false
            if s.buffer.count <= max {
                // The ring itself is handed over, its exchanges not copied; the queue starts a new one (keeping the
                // capacity would keep a second buffer as large as the largest backlog).
                var whole = Batch()
                swap(&whole, &s.buffer)
                return whole
            }
            let head = Batch(s.buffer.prefix(max))
            s.buffer.removeFirst(max)
            return head
        }
        guard let taken else {
            state.withLock { $0.consumerWaits = false }
            return []
        }
        return taken
    }

    /// Stops accepting (later submits count as dropped) and wakes the consumer so it can drain what is left.
    public func close() {
        let wake = state.withLock { s -> Bool in
            s.closed = true
            defer { s.consumerWaits = false }
            return s.consumerWaits
        }
        if wake { state.signal() }
    }

    public var counters: Counters {
        state.withLock { Counters(accepted: $0.accepted, dropped: $0.dropped, queued: $0.buffer.count) }
    }
}
