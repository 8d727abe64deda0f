import Logging
import NIOCore
import Synchronization
import TollgateModel

/// The bounded queue between the proxy and the store.
///
/// `submit` is called on event loops: it takes a lock for a few instructions, appends or drops, and wakes the
/// drainer if it sleeps. It never waits and never fails the response. When the queue is full the exchange is
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
        var waiter: CheckedContinuation<Void, Never>?
        var accepted = 0
        var dropped = 0
        var lastDropLog: ContinuousClock.Instant?
        var closed = false
    }

    public let capacity: Int
    private let state = Mutex(State())
    private let logger: Logger
    private let dropLogInterval: Duration = .seconds(10)
    /// Called with each dropped exchange (off the lock), e.g. to give back its log quota reservation.
    private let onDrop: (@Sendable (Exchange) -> Void)?

    public init(capacity: Int = 65_536, logger: Logger, onDrop: (@Sendable (Exchange) -> Void)? = nil) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.logger = logger
        self.onDrop = onDrop
    }

    public func submit(_ exchange: Exchange) {
        enum Outcome { case queued(CheckedContinuation<Void, Never>?), dropped(total: Int, log: Bool) }
        let outcome: Outcome = state.withLock { s in
            if s.buffer.count >= capacity || s.closed {
                s.dropped += 1
                let now = ContinuousClock.now
                let log = s.lastDropLog.map { now - $0 >= dropLogInterval } ?? true
                if log { s.lastDropLog = now }
                return .dropped(total: s.dropped, log: log)
            }
            s.buffer.append(exchange)
            s.accepted += 1
            let waiter = s.waiter
            s.waiter = nil
            return .queued(waiter)
        }
        switch outcome {
        case .queued(let waiter):
            waiter?.resume()
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

    /// Takes up to `max` exchanges, waiting while the queue is empty. Returns an empty array only after
    /// `close()` once the queue is drained. One consumer at a time.
    public func take(max: Int) async -> [Exchange] {
        while true {
            let batch: [Exchange]? = state.withLock { s in
                if s.buffer.isEmpty { return s.closed ? [] : nil }
                if s.buffer.count <= max {
                    // The ring is handed over whole: keeping its capacity would keep a second buffer as large as
                    // the largest backlog.
                    defer { s.buffer = CircularBuffer() }
                    return Array(s.buffer)
                }
                let head = Array(s.buffer.prefix(max))
                s.buffer.removeFirst(max)
                return head
            }
            if let batch { return batch }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if !s.buffer.isEmpty || s.closed { return true }
                    s.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// Stops accepting (later submits count as dropped) and wakes the consumer so it can drain what is left.
    public func close() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.closed = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    public var counters: Counters {
        state.withLock { Counters(accepted: $0.accepted, dropped: $0.dropped, queued: $0.buffer.count) }
    }
}
