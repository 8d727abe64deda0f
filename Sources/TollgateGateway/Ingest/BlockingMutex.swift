import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A mutex with one condition, for the one thread of the gateway that blocks: the store's, waiting for exchanges
/// (`IngestQueue.take(max:waitingUntil:)`). Event loops only take it for a few instructions and `signal` it.
///
/// A thin wrapper of a POSIX mutex and condition variable; on Linux the condition waits on the monotonic clock, so a
/// change of the wall clock does not stretch a wait.
final class BlockingMutex<State>: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    /// Read and written only with `mutex` held.
    private var state: State

    init(_ state: State) {
        self.state = state
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if os(Linux)
            pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func withLock<T>(_ body: (inout State) throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }

    /// Wakes the thread waiting in `wait`, if one is.
    func signal() {
        pthread_cond_signal(condition)
    }

    /// Calls `ready` with the lock held until it gives a value, waiting for a `signal` (or the deadline) between
    /// calls; nil once `deadline` has passed without one.
    func wait<T>(until deadline: NIODeadline, _ ready: (inout State) -> T?) -> T? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while true {
            if let value = ready(&state) { return value }
            let left = deadline - NIODeadline.now()
            guard left > .zero else { return nil }
            var until = Self.monotonicTime(after: left.nanoseconds)
            pthread_cond_timedwait(condition, mutex, &until)
        }
    }

    /// The time `nanoseconds` from now on the clock the condition waits on.
    private static func monotonicTime(after nanoseconds: Int64) -> timespec {
        var now = timespec()
        #if os(Linux)
            clock_gettime(CLOCK_MONOTONIC, &now)
        #else
            clock_gettime(CLOCK_REALTIME, &now)
        #endif
        let total = Int64(now.tv_nsec) + nanoseconds % 1_000_000_000
        now.tv_sec += Int(nanoseconds / 1_000_000_000 + total / 1_000_000_000)
        now.tv_nsec = Int(total % 1_000_000_000)
        return now
    }
}
