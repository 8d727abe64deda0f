import NIOCore
import TollgateStorage

/// The group commit across the ingest service's two threads. The store's thread begins it (`LogStore.beginCommit`:
/// buffered frames written, the pending logs set aside) and hands it to the committer's thread, which runs the
/// fsync, finishes it (`LogStore.finishCommit`: the logs indexed, the rollups checkpointed) and converts the quota
/// reservations of the logs it covered. The store's thread goes on appending meanwhile: a disk that takes a quarter
/// of a second for an fsync holds up the index, not the queue.
extension IngestService {
    /// How soon the store's thread looks again when a commit is due and the last one's fsync still runs.
    static let busyCommitterRetry = TimeAmount.milliseconds(20)

    /// A commit handed to the committer's thread.
    struct HandedCommit {
        let sync: SegmentSync
        /// The quota reservations of the logs it covers.
        let reservations: [ReservationKey: Int64]
        /// When it began (`clock`'s monotonic nanoseconds).
        let started: UInt64
        /// Records indexed before it began.
        let committedBefore: Int
    }

    /// The handoff between the two threads: one commit at a time.
    final class Committer: Sendable {
        private struct State {
            var next: HandedCommit?
            /// A commit is handed over and not finished.
            var busy = false
            var closed = false
        }

        private let state = BlockingMutex(State())

        /// Whether the last commit handed over is not finished yet.
        var isBusy: Bool { state.withLock { $0.busy } }

        func hand(_ commit: HandedCommit) {
            state.withLock {
                precondition(!$0.busy, "one commit at a time")
                $0.next = commit
                $0.busy = true
            }
            state.signal()
        }

        /// The next commit to run; nil once closed. Waits with no deadline: `hand` and `close` signal.
        func next() -> HandedCommit? {
            let taken: HandedCommit?? = state.wait(until: .distantFuture) { state in
                if let next = state.next {
                    state.next = nil
                    return .some(next)
                }
                return state.closed ? .some(nil) : nil
            }
            return taken ?? nil
        }

        func finished() {
            state.withLock { $0.busy = false }
        }

        func close() {
            state.withLock { $0.closed = true }
            state.signal()
        }
    }

    /// On the store's thread: begins a commit and hands its fsync to the committer, or, when the store did the
    /// commit whole (nothing to fsync, a store that cannot write retrying), converts its reservations here.
    func beginCommit(_ committer: Committer) throws {
        let started = clock.monotonicNanoseconds()
        let before = store.statistics.recordsCommitted
        guard let sync = try store.beginCommit() else {
            if let committed, store.statistics.recordsCommitted > before { committed(clock.elapsed(since: started)) }
            try convert(reservations.take())
            return
        }
        committer.hand(
            HandedCommit(
                sync: sync, reservations: reservations.take(), started: started, committedBefore: before))
    }

    /// The committer's thread, until closed: runs each commit's fsync, finishes it, and converts its reservations
    /// (given back for the next commit when it fails).
    func runCommitter(_ committer: Committer) {
        // Its bursts (indexing, the rollups' checkpoint) wait for an event loop's time slice, as the store's do.
        Self.markStoreThreadAsBatch()
        while let commit = committer.next() {
            commit.sync.run()
            storeWork {
                do {
                    try store.finishCommit(commit.sync)
                } catch {
                    reservations.restore(commit.reservations)
                    throw error
                }
                if let committed, store.statistics.recordsCommitted > commit.committedBefore {
                    committed(clock.elapsed(since: commit.started))
                }
                try convert(commit.reservations)
            }
            committer.finished()
            // Between commits, the committer makes the next segment's files, so a rotation on the store's thread
            // does not wait for their fsyncs.
            store.prepareNextSegment()
        }
    }
}
