import Logging
import NIOPosix
import ServiceLifecycle
import TollgateModel
import TollgateStorage

/// Drains the ingest queue into the log store: turns each `Exchange` into a `LogRecord` (redaction, model and
/// usage parsing), appends it to the active segment, and commits (fsync, then index) at least every
/// `commitInterval`, so a log is listed by the API within that interval of its response finishing.
///
/// All storage work runs on one dedicated thread, off the event loops and off Swift's concurrency pool.
/// On graceful shutdown it runs after the HTTP server has stopped (it comes first in the service group), closes
/// the queue, drains what is left, commits and seals the active segment.
public struct IngestService: Service {
    public struct Configuration: Sendable {
        /// Group commit interval: the longest a stored log waits for fsync and indexing.
        public var commitInterval: Duration = .milliseconds(200)
        /// Exchanges taken from the queue per append batch.
        public var batchSize = 512
        public init() {}
    }

    let queue: IngestQueue
    let store: LogStore
    let providers: ProviderTable
    let configuration: Configuration
    let logger: Logger

    public init(
        queue: IngestQueue, store: LogStore, providers: ProviderTable, configuration: Configuration = .init(),
        logger: Logger
    ) {
        self.queue = queue
        self.store = store
        self.providers = providers
        self.configuration = configuration
        self.logger = logger
    }

    public func run() async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let queue = self.queue
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // The ticker: commit what the drainer appended, at the configured interval.
                while !Task.isCancelledOrShuttingDown {
                    try? await Task.sleep(for: configuration.commitInterval)
                    await runStoreWork(on: pool) { try store.commit() }
                }
            }
            group.addTask {
                await withGracefulShutdownHandler {
                    while true {
                        let batch = await queue.take(max: configuration.batchSize)
                        if batch.isEmpty { break }  // closed and drained
                        await runStoreWork(on: pool) {
                            let records = batch.map { LogRecord(exchange: $0, providers: providers) }
                            try store.append(records)
                        }
                    }
                } onGracefulShutdown: {
                    queue.close()
                }
            }
            await group.next()  // the drainer ends after close(); then stop the ticker
            group.cancelAll()
        }
        await runStoreWork(on: pool) { try store.close() }
        try await pool.shutdownGracefully()
        logger.info("ingest stopped; store committed and sealed")
    }

    private func runStoreWork(on pool: NIOThreadPool, _ work: @escaping @Sendable () throws -> Void) async {
        do {
            try await pool.runIfActive(work)
        } catch {
            logger.error("log store write failed", metadata: ["error": "\(error)"])
        }
    }
}

extension Task where Success == Never, Failure == Never {
    static var isCancelledOrShuttingDown: Bool { Task.isCancelled || Task.isShuttingDownGracefully }
}
