import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import TollgateModel
import TollgateStorage

#if canImport(Glibc)
    import Glibc
#endif

/// Drains the ingest queue into the log store: turns each `Exchange` into a `LogRecord` (redaction, model and
/// usage parsing), appends it to the active segment, and commits (fsync, then index) every `commitInterval`, so a
/// log is listed by the API within about that interval and one fsync of its response finishing.
///
/// All storage work runs on one dedicated thread, off the event loops and off Swift's concurrency pool; that thread
/// waits for exchanges on the queue itself, so a batch costs no hop between threads. A commit's fsync runs on a
/// second thread, the committer's (`IngestService+Commit.swift`), which then indexes what it made durable: the
/// store's thread goes on appending meanwhile, so a slow disk does not leave the exchanges piling up in memory.
/// When a write fails (a full disk) the store counts the records it loses as failed and retries on its own: at
/// each batch, and at each commit tick once its backoff has passed; the proxy keeps forwarding meanwhile.
/// On graceful shutdown it runs after the HTTP server has stopped (it comes first in the service group), closes
/// the queue, drains what is left, commits and seals the active segment.
public struct IngestService: Service {
    public struct Configuration: Sendable {
        /// How often a group commit begins (fsync, then indexing): a stored log is listed within about this interval
        /// and one fsync of being appended.
        public var commitInterval: Duration = .milliseconds(200)
        /// Exchanges taken from the queue per append batch.
        public var batchSize = 512
        /// After a batch smaller than `batchSize`, the store's thread waits this long before taking the next, so
        /// exchanges arriving one by one are appended in batches: one wake-up of the store's thread per batch rather
        /// than per request. Far below `commitInterval`, so it does not delay durability. Longer is not better: 10 ms saved
        /// about 1 µs of CPU per request at 32 connections (`scripts/cpu-proxy.sh`), but the store's thread then
        /// worked in bursts five times as long on the proxy's two cores, and `scripts/bench-memory.sh 60` gave p99
        /// 4.2–4.5 ms against 3.3–3.5 ms, and a peak RSS up to 65.7 MB with the larger batches held.
        public var coalesceInterval: Duration = .milliseconds(2)
        /// How often the store's thread gives the allocator's free pages back to the system (`Heap.release`),
        /// after a commit; rounded to whole commit intervals.
        public var heapReleaseInterval: Duration = .seconds(5)
        public init() {}
    }

    let queue: IngestQueue
    let store: LogStore
    let providers: ProviderTable
    let configuration: Configuration
    let logger: Logger
    let quota: LogQuota?
    /// Told of every batch's records as soon as they are made, before they are appended (spend limits count them).
    let recorded: (@Sendable ([LogRecord], [Int64?]) -> Void)?
    /// Told how long each commit that made records durable took (fsync, then index).
    let committed: (@Sendable (Duration) -> Void)?
    /// Times the commits `committed` is told of. The store's thread's commit timer and pauses run on the
    /// machine's monotonic time, as the event loops' timers do.
    let clock: TollgateClock
    /// Quota reservations of logs appended but not yet committed, by account and month.
    let reservations = Reservations()

    final class Reservations: Sendable {
        private let pending = Mutex<[ReservationKey: Int64]>([:])
        func withLock<T>(_ body: (inout [ReservationKey: Int64]) -> T) -> T { pending.withLock { body(&$0) } }

        /// Takes the reservations of the logs appended so far: those a commit beginning now covers.
        func take() -> [ReservationKey: Int64] {
            withLock { pending in
                defer { pending.removeAll() }
                return pending
            }
        }

        /// Gives back reservations taken by a commit that failed: the next one converts them.
        func restore(_ taken: [ReservationKey: Int64]) {
            withLock { pending in
                for (key, count) in taken { pending[key, default: 0] += count }
            }
        }
    }

    struct ReservationKey: Hashable {
        var account: String
        var monthStart: Int64
    }

    private struct ReservationCount {
        var key: ReservationKey
        var count: Int64
    }

    public init(
        queue: IngestQueue, store: LogStore, providers: ProviderTable, configuration: Configuration = .init(),
        quota: LogQuota? = nil, recorded: (@Sendable ([LogRecord], [Int64?]) -> Void)? = nil,
        committed: (@Sendable (Duration) -> Void)? = nil, clock: TollgateClock = .system, logger: Logger
    ) {
        self.clock = clock
        self.recorded = recorded
        self.committed = committed
        self.queue = queue
        self.store = store
        self.providers = providers
        self.configuration = configuration
        self.quota = quota
        self.logger = logger
    }

    /// Appends a batch; the quota reservations it carries are converted at the next commit, or given back when the
    /// append fails.
    private func append(_ batch: IngestQueue.Batch, headerNames: inout HeaderRedaction.NameMemo) throws {
        // Priced once, as each record is made (reading it from the array again would copy it): the store keeps these
        // as the logs' costs, and spend limits and metrics count them.
        var prices: [Int64?] = []
        prices.reserveCapacity(batch.count)
        // Each exchange read where it lies in the batch: one handed on by value from the array is copied first (each
        // of its strings and buffers retained, then released).
        var records: [LogRecord] = []
        records.reserveCapacity(batch.count)
        batch.withUnsafeBufferPointer { exchanges in
            for i in exchanges.indices {
                let record = LogRecord(
                    exchange: exchanges.baseAddress! + i, providers: providers, headerNames: &headerNames)
                prices.append(store.price(of: record))
                records.append(record)
            }
        }
        recorded?(records, prices)
        // A line per proxied request at debug level, written here rather than on the proxy's event loops.
        if logger.logLevel <= .debug {
            for record in records {
                logger.debug(
                    "request",
                    metadata: [
                        "log_id": "\(record.id)", "account": "\(record.account)", "gateway": "\(record.gateway)",
                        "provider": "\(record.provider)", "http.status": "\(record.statusCode)",
                        "duration_ms": "\(record.durationMicros / 1000)",
                    ])
            }
        }
        // Counted by account and month in a short list: a batch's logs are almost always one or two accounts' of
        // one month, found by comparing rather than hashing each log's account.
        var reserved: [ReservationCount] = []
        // One pass: a refused request's reservation goes back, the others are counted for the next commit.
        for i in batch.indices where batch[i].quotaReserved {
            let month = UTCMonth.start(of: batch[i].startedAt)
            if batch[i].refusal != nil {
                // A refused request is a usage record, never a stored log: a reservation it holds goes back at once.
                quota?.release(account: batch[i].account, admitted: month)
            } else {
                let account = batch[i].account
                if let k = reserved.firstIndex(where: { $0.key.monthStart == month && $0.key.account == account }) {
                    reserved[k].count += 1
                } else {
                    reserved.append(
                        ReservationCount(key: ReservationKey(account: account, monthStart: month), count: 1))
                }
            }
        }
        do {
            try store.append(records, prices: prices)
        } catch {
            // Records before the failing one may have been appended (and be indexed later) or lost with the
            // segment's tail; which ones is not known here, so the whole batch counts as stored: the quota errs
            // towards never exceeding the limit, and the next start reads the exact count back from the catalog.
            reservations.withLock { pending in
                for entry in reserved { pending[entry.key, default: 0] += entry.count }
            }
            throw error
        }
        reservations.withLock { pending in
            for entry in reserved { pending[entry.key, default: 0] += entry.count }
        }
    }

    /// After a commit: the reservations of the logs it indexed (taken when it began) become stored logs in the
    /// quota; with `enforcing`, an account over its limit with the `delete_oldest` strategy loses its oldest logs of
    /// the month, so it stays at the limit.
    func convert(_ committed: [ReservationKey: Int64], enforcing: Bool = true) throws {
        for (key, count) in committed {
            quota?.committed(account: key.account, admitted: key.monthStart, count: count)
        }
        guard let quota, enforcing else { return }
        for account in Set(committed.keys.map(\.account)) {
            let excess = quota.excess(account: account)
            guard excess > 0 else { continue }
            let month = UTCMonth.start(of: quota.now())
            var oldest = LogQuery(account: account, order: .ascending)
            oldest.from = month
            let deleted = try store.catalog.deleteLogs(matching: oldest, atMost: Int(excess))
            try quota.refresh(account: account)
            logger.debug(
                "deleted oldest logs to stay at the quota",
                metadata: ["account": "\(account)", "deleted": "\(deleted)"])
        }
    }

    public func run() async throws {
        let pool = NIOThreadPool(numberOfThreads: 2)
        pool.start()
        let queue = self.queue
        let committer = Committer()
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withTaskGroup { group in
                    group.addTask {
                        do {
                            try await pool.runIfActive { runCommitter(committer) }
                        } catch {
                            logger.error("the committer's thread did not run", metadata: ["error": "\(error)"])
                        }
                    }
                    do {
                        try await pool.runIfActive { drain(committer) }
                    } catch {
                        committer.close()
                        logger.error("the store's thread did not run", metadata: ["error": "\(error)"])
                    }
                }
            } onGracefulShutdown: {
                queue.close()
            }
        } onCancel: {
            queue.close()
        }
        try await pool.shutdownGracefully()
        logger.info("ingest stopped; store committed and sealed")
    }

    /// The store's thread, until the queue is closed and drained: takes batches off the queue and appends them,
    /// begins a commit every `commitInterval` (also when nothing came, so a store that could not write retries) and
    /// hands its fsync to the committer, and after a batch smaller than `batchSize` lets `coalesceInterval` pass so
    /// the next one gathers more. Then it waits for the committer, commits and seals the active segment. It blocks
    /// only on the queue and in those pauses: no task, timer or other thread is woken for a batch.
    private func drain(_ committer: Committer) {
        Self.markStoreThreadAsBatch()
        let commitInterval = TimeAmount(configuration.commitInterval)
        let coalesceInterval = TimeAmount(configuration.coalesceInterval)
        let releaseEvery = max(1, Int(configuration.heapReleaseInterval / configuration.commitInterval))
        var commits = 0
        var nextCommit = NIODeadline.now() + commitInterval
        var headerNames = HeaderRedaction.NameMemo()
        while let batch = queue.take(max: configuration.batchSize, waitingUntil: nextCommit) {
            if !batch.isEmpty { storeWork { try append(batch, headerNames: &headerNames) } }
            let now = NIODeadline.now()
            if now >= nextCommit {
                // One commit at a time: while the last one's fsync runs, the next begins when it is done.
                guard !committer.isBusy else {
                    nextCommit = now + min(commitInterval, Self.busyCommitterRetry)
                    continue
                }
                commits += 1
                let release = commits % releaseEvery == 0
                storeWork {
                    try beginCommit(committer)
                    if release { Heap.release() }
                }
                nextCommit = now + commitInterval
            } else if !batch.isEmpty && batch.count < configuration.batchSize && coalesceInterval > .zero {
                Self.pause(min(coalesceInterval, nextCommit - now))
            }
        }
        while committer.isBusy { Self.pause(.milliseconds(1)) }
        committer.close()
        storeWork {
            try store.close()
            try convert(reservations.take(), enforcing: false)
        }
    }

    /// Runs storage work on the store's or the committer's thread. While the store cannot write (a full disk) it logs a warning once per
    /// change of state and retries by itself at each batch and commit; each failed batch or commit is logged here at
    /// debug level only.
    func storeWork(_ work: () throws -> Void) {
        do {
            try work()
        } catch {
            if store.writeStatus.isReady {
                logger.error("log store write failed", metadata: ["error": "\(error)"])
            } else {
                logger.debug("log store write failed while the store cannot write", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Blocks the calling thread for `amount`.
    static func pause(_ amount: TimeAmount) {
        guard amount > .zero else { return }
        var request = timespec(
            tv_sec: Int(amount.nanoseconds / 1_000_000_000), tv_nsec: Int(amount.nanoseconds % 1_000_000_000))
        var left = timespec()
        while nanosleep(&request, &left) != 0 && errno == EINTR { request = left }
    }
}

extension IngestService {
    /// Linux's `SCHED_BATCH` (sched.h defines it only with `_GNU_SOURCE`).
    static let batchPolicy: Int32 = 3

    /// Marks the calling thread, the store's (or the committer's), as a batch thread for the scheduler: the same share of the CPU as any
    /// other (it keeps up with the proxy), but its wake-ups do not preempt a running thread, so its bursts (a batch,
    /// a commit, a seal) wait for an event loop's time slice instead of cutting into it. Best effort: a failure leaves
    /// the thread as it was.
    static func markStoreThreadAsBatch() {
        #if os(Linux)
            var parameters = sched_param()
            parameters.sched_priority = 0
            _ = sched_setscheduler(0, batchPolicy, &parameters)
        #endif
    }
}
