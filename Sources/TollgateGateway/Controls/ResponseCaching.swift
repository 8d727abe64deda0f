import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import TollgateModel
import TollgateStorage

/// The response cache as the proxy uses it: the entry files (`ResponseCache`, in the data folder's `cache/`) read and
/// written on a thread pool of its own, off the event loops; the requests in flight that identical ones wait for
/// (`CacheFlights`); and, run as a service, a periodic sweep of expired entries.
public final class ResponseCaching: Sendable {
    public struct Configuration: Sendable {
        /// Bytes of entry files kept at most (`serve --cache-max-mb`); the least recently used are evicted past it.
        public var maxBytes: Int64 = 1 << 30
        /// Responses with a larger body are not stored.
        public var maxBodyBytes = 25 << 20
        /// Bytes of entries kept in memory as well, answered without reading their file; 0: every hit reads it.
        public var memoryBytes: Int64 = 64 << 20
        /// Time between two sweeps of expired entries.
        public var sweepInterval: Duration = .seconds(60)
        /// Threads doing the cache's file I/O.
        public var threads = 2

        public init() {}
    }

    public let configuration: Configuration
    /// The entry files.
    public let store: ResponseCache
    let flights = CacheFlights()
    private let pool: NIOThreadPool
    private let logger: Logger
    private let clock: @Sendable () -> Int64

    /// Opens (or creates) the cache folder and indexes its entries; starts the I/O threads. Entries expire on
    /// `now`'s time (Unix ms).
    public init(
        directory: String, configuration: Configuration = .init(),
        now: @escaping @Sendable () -> Int64 = TollgateClock.system.wallMilliseconds, logger: Logger
    ) throws {
        self.configuration = configuration
        self.logger = logger
        self.clock = now
        var files = ResponseCache.Configuration(directory: directory)
        files.maxBytes = configuration.maxBytes
        files.maxBodyBytes = configuration.maxBodyBytes
        files.memoryBytes = min(configuration.memoryBytes, configuration.maxBytes)
        store = try ResponseCache(configuration: files, now: now)
        pool = NIOThreadPool(numberOfThreads: max(1, configuration.threads))
        pool.start()
    }

    /// Unix ms, from the injected clock.
    var now: Int64 { clock() }

    /// Looks `key` up: among the entries kept in memory at once, else on the I/O threads; the future completes on
    /// `eventLoop` (nil: a miss, also when the threads stopped).
    func lookup(_ key: CacheKey, on eventLoop: any EventLoop) -> EventLoopFuture<ResponseCache.Entry?> {
        let store = self.store
        if let entry = store.lookupInMemory(key.digest) { return eventLoop.makeSucceededFuture(entry) }
        return pool.runIfActive(eventLoop: eventLoop) { store.lookup(key.digest) }
            .flatMapErrorThrowing { _ in nil }
    }

    /// Stores `entry` on the I/O threads, then runs `done` there (whether or not it was stored).
    func store(_ entry: ResponseCache.Entry, then done: @escaping @Sendable () -> Void = {}) {
        let (store, logger) = (self.store, self.logger)
        // Run even when the threads are stopping: a response that ended before shutdown is kept.
        pool.submit { _ in
            do {
                try store.store(entry)
            } catch {
                logger.warning("response cache entry not stored", metadata: ["error": "\(error)"])
            }
            done()
        }
    }

    /// Removes a gateway's entries (its settings changed with `cache_invalidate_on_update` on); returns how many.
    @discardableResult
    public func invalidate(account: String, gateway: String) async throws -> Int {
        let store = self.store
        return try await pool.runIfActive { store.removeAll(account: account, gateway: gateway) }
    }

    /// Removes the expired entries; returns how many.
    @discardableResult
    public func sweep() async throws -> Int {
        let store = self.store
        return try await pool.runIfActive { store.removeExpired() }
    }
}

/// Run in the server's service group: sweeps expired entries every `sweepInterval` until shutdown, then stops the I/O
/// threads (after the HTTP server and the proxy, so exchanges in flight still store their responses).
extension ResponseCaching: Service {
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do { try await Task.sleep(for: self.configuration.sweepInterval) } catch { return }
                do {
                    let removed = try await self.sweep()
                    if removed > 0 {
                        self.logger.debug("expired cache entries removed", metadata: ["cache.removed": "\(removed)"])
                    }
                } catch {
                    return
                }
            }
        }
        await shutdown()
    }

    /// Stops the I/O threads once the work queued on them is done (the service does it on shutdown).
    public func shutdown() async {
        try? await pool.shutdownGracefully()
    }
}

/// The cacheable requests in flight upstream, by key, so that identical requests arriving meanwhile wait for the
/// first one's response instead of calling the provider too. Shared by every event loop; each waiter is called back
/// on the thread that lands the flight, and hops to its own loop.
final class CacheFlights: Sendable {
    /// Called with the response, or nil when the request in flight failed (the waiter goes upstream itself).
    typealias Waiter = @Sendable (ResponseCache.Entry?) -> Void

    enum Joined {
        /// No identical request in flight: this one looks the key up and, on a miss, goes upstream for the others.
        case lead
        /// An identical request is in flight; `waiter` is called when it lands.
        case wait
        /// An identical request just got its response, being stored now: answer from it.
        case landed(ResponseCache.Entry)
    }

    private enum Flight {
        case inFlight([Waiter])
        /// Answered; kept until its entry is on disk, so a request arriving meanwhile does not miss.
        case landed(ResponseCache.Entry)
    }

    private let flights = Mutex<[[UInt8]: Flight]>([:])

    /// Joins `key`'s flight; `waiter` is asked for the callback only when the request is to wait.
    func join(_ key: CacheKey, waiter: () -> Waiter) -> Joined {
        flights.withLock { flights in
            switch flights[key.digest] {
            case .inFlight(var waiters):
                waiters.append(waiter())
                flights[key.digest] = .inFlight(waiters)
                return .wait
            case .landed(let entry):
                return .landed(entry)
            case nil:
                flights[key.digest] = .inFlight([])
                return .lead
            }
        }
    }

    /// The leader's request ended: with its response (`entry`, being stored; call `settle` once it is on disk), or
    /// nil when it failed or is not cacheable. Calls the waiters.
    func land(_ key: CacheKey, _ entry: ResponseCache.Entry?) {
        let waiters = flights.withLock { flights -> [Waiter] in
            guard case .inFlight(let waiters) = flights[key.digest] else { return [] }
            if let entry {
                flights[key.digest] = .landed(entry)
            } else {
                flights[key.digest] = nil
            }
            return waiters
        }
        for waiter in waiters { waiter(entry) }
    }

    /// The landed entry is on disk (or was not stored): lookups answer from now on.
    func settle(_ key: CacheKey) {
        flights.withLock { flights in
            if case .landed = flights[key.digest] { flights[key.digest] = nil }
        }
    }

    /// Keys in flight or landed (for tests).
    var count: Int { flights.withLock { $0.count } }
}
