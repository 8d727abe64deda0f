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
        /// The exchanges waiting, in submission order, in runs of at most `batchSize`: a submit moves its exchange
        /// onto the last run (an `Array` append takes the value it is given; NIO's `CircularBuffer` copied it,
        /// retaining every string and array of the exchange on the event loop), and `take` hands over the first run
        /// whole, so a batch taken off the front of a backlog moves nothing else.
        var runs: [[Exchange]] = []
        var count = 0
        /// The store's thread waits in `take` for a `signal`.
        var consumerWaits = false
        var accepted = 0
        var dropped = 0
        /// When a drop was last logged (`clock`'s monotonic nanoseconds).
        var lastDropLog: UInt64?
        var closed = false
    }

    public let capacity: Int
    /// The most exchanges a run holds: the consumer's batch (`IngestService.Configuration.batchSize`).
    public let batchSize: Int
    private let state = BlockingMutex(State())
    private let logger: Logger
    /// Drops are logged at most once per interval.
    private let dropLogInterval: UInt64 = 10_000_000_000
    private let clock: TollgateClock
    /// Called with each dropped exchange (off the lock), e.g. to give back its log quota reservation.
    private let onDrop: (@Sendable (Exchange) -> Void)?

    public init(
        capacity: Int = 65_536, batchSize: Int = 512, clock: TollgateClock = .system, logger: Logger,
        onDrop: (@Sendable (Exchange) -> Void)? = nil
    ) {
        precondition(capacity > 0 && batchSize > 0)
        self.capacity = capacity
        self.batchSize = batchSize
        self.clock = clock
        self.logger = logger
        self.onDrop = onDrop
    }

    public func submit(_ exchange: consuming Exchange) {
        enum Outcome { case queued(wake: Bool), dropped(total: Int, log: Bool) }
        // Moved onto the last run (`take()`), not copied; still here when it is dropped.
        var pending: Exchange? = consume exchange
        let outcome: Outcome = state.withLock { s in
            if s.count >= capacity || s.closed {
                s.dropped += 1
                let now = clock.monotonicNanoseconds()
                let log = s.lastDropLog.map { now &- $0 >= dropLogInterval } ?? true
                if log { s.lastDropLog = now }
                return .dropped(total: s.dropped, log: log)
            }
            if s.runs.isEmpty || s.runs[s.runs.count - 1].count >= batchSize {
                // Room for a few exchanges first (a run that grows one at a time moves them at each doubling).
                var run: [Exchange] = []
                run.reserveCapacity(min(batchSize, 16))
                s.runs.append(run)
            }
            s.runs[s.runs.count - 1].append(pending.take()!)
            s.count += 1
            s.accepted += 1
            defer { s.consumerWaits = false }
            return .queued(wake: s.consumerWaits)
        }
        switch outcome {
        case .queued(let wake):
            if wake { state.signal() }
        case .dropped(let total, let log):
            if let exchange = pending { onDrop?(exchange) }
            if log {
                logger.warning(
                    "ingest queue full: log record dropped",
                    metadata: ["ingest.dropped_total": "\(total)", "ingest.capacity": "\(capacity)"]
                )
            }
        }
    }

    /// Exchanges taken off the queue together, in the order they were submitted.
    public typealias Batch = [Exchange]

    /// Takes up to `max` exchanges, blocking the calling thread (the store's) while the queue is empty, at most until
    /// `deadline`: an empty batch when the deadline passed with nothing queued, nil after `close()` once the queue
    /// is drained. One consumer at a time.
    public func take(max: Int, waitingUntil deadline: NIODeadline) -> Batch? {
        let taken: Batch?? = state.wait(until: deadline) { s in
            if s.count == 0 {
                if s.closed { return .some(nil) }
                s.consumerWaits = true
                return nil
            }
            s.consumerWaits = false
            // The first run itself is handed over, its exchanges not copied. Only a `max` below `batchSize` splits it.
            var run = s.runs.removeFirst()
            if run.count > max {
                s.runs.insert(Array(run[max...]), at: 0)
                run.removeLast(run.count - max)
            }
            s.count -= run.count
            return run
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
        state.withLock { Counters(accepted: $0.accepted, dropped: $0.dropped, queued: $0.count) }
    }
}
