import Foundation
import Glibc
import Logging
import ServiceLifecycle
import Synchronization
import TollgateModel
import TollgateStorage

/// Deletes logs past their retention and compacts the segments holding deleted logs, on a timer: every
/// `interval` (default 5 minutes) one pass deletes expired logs from the index (`LogStore.applyRetention`) and
/// compacts the sealed segments that hold deleted logs (`LogStore.compact`: rewritten, or dropped whole when all
/// their logs are deleted), so a deleted log's content leaves the disk within about one interval after its segment
/// is sealed and checkpointed past. `POST /api/v1/compact` runs a pass on request.
///
/// Passes run on a thread of their own at a low priority, off the event loops and off the ingest thread; the
/// ingest writer waits only for the catalog transactions (one bounded batch or one segment's commit at a time).
/// It comes after the ingest service and before the HTTP server in the service group, so on shutdown it stops
/// (between two segments) before the store is closed.
public struct RetentionService: Service {
    public struct Configuration: Sendable {
        /// Time between two passes (the first runs one interval after start).
        public var interval: Duration = .seconds(300)
        /// False: no background passes (`tollgate compact` still works on a stopped gateway's folder).
        public var enabled = true
        public init() {}
    }

    /// What one pass did.
    public struct PassResult: Sendable, Equatable {
        /// Logs deleted from the index for being past their retention.
        public var expired = 0
        public var compaction = CompactionReport()
    }

    let store: LogStore
    let configuration: Configuration
    let logger: Logger
    /// Told to re-read the stored counts after logs expired (expired logs of this month free quota).
    let quota: LogQuota?
    /// The wall clock (Unix ms) a log's age is counted on.
    let now: @Sendable () -> Int64
    private let stopping = StopFlag()

    public init(
        store: LogStore, configuration: Configuration = .init(), quota: LogQuota? = nil,
        now: @escaping @Sendable () -> Int64 = TollgateClock.system.wallMilliseconds, logger: Logger
    ) {
        self.store = store
        self.configuration = configuration
        self.now = now
        self.quota = quota
        self.logger = logger
    }

    /// One pass, on the caller's thread: retention, then compaction (of `account` only, when given).
    @discardableResult
    public func runPass(account: String? = nil) throws -> PassResult {
        var result = PassResult()
        result.expired = try store.applyRetention(now: now(), account: account)
        if result.expired > 0 { try quota?.refreshAll() }
        result.compaction = try store.compact(account: account, shouldStop: { [stopping] in stopping.isSet })
        if result.expired > 0 {
            logger.info("retention deleted expired logs", metadata: ["retention.deleted": "\(result.expired)"])
        }
        return result
    }

    public func run() async throws {
        guard configuration.enabled else {
            try? await gracefulShutdown()
            return
        }
        await withGracefulShutdownHandler {
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: configuration.interval) } catch { return }
                    do {
                        _ = try await runPassInBackground()
                    } catch {
                        logger.error("retention pass failed", metadata: ["error": "\(error)"])
                    }
                }
            }
        } onGracefulShutdown: { [stopping] in
            stopping.set()
        }
    }

    /// One pass on a thread of its own, at a low scheduling priority: off the event loops, the ingest thread and
    /// the concurrency pool, and behind them for the CPU. Returns when the pass is over (after a graceful shutdown
    /// began, it ends early, between two segments).
    public func runPassInBackground(account: String? = nil) async throws -> PassResult {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PassResult, Error>) in
            let thread = Thread {
                Self.lowerThreadPriority()
                continuation.resume(with: Result { try runPass(account: account) })
            }
            thread.name = "tollgate-retention"
            thread.start()
        }
    }
}

extension RetentionService {
    /// Nice value of the pass thread: the scheduler gives it about a tenth of a core's share when the proxy's
    /// threads want the CPU, and all of an idle core.
    static let passNiceness: Int32 = 10

    /// Lowers the calling thread's scheduling priority (Linux keeps a nice value per thread; `who` 0 is the
    /// calling thread). Best effort: a failure leaves the thread as it was.
    static func lowerThreadPriority() {
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, passNiceness)
    }
}

/// Set once on graceful shutdown; a running pass checks it between segments.
final class StopFlag: Sendable {
    private let flag = Atomic(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}
