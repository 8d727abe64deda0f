import Glibc
import Synchronization

/// Planned failures, for tests: the segment writer asks before each write, fsync and file creation, and the log
/// store before each catalog commit, so a test makes exactly the n-th of them fail with the errno it chooses,
/// without filling a disk. Nil in production (`SegmentWriter.Configuration.faults`).
public final class StorageFaults: Sendable {
    public enum Operation: Sendable, Hashable {
        /// `pwrite` to the active segment (buffered frames, seal frames, probe).
        case segmentWrite
        /// `fsync` of the active segment.
        case segmentSync
        /// Creating the next segment file.
        case segmentCreate
        /// Indexing records in the catalog.
        case catalogCommit
        /// Writing a trained dictionary.
        case dictionaryWrite
    }

    private struct Plan {
        var errno: Int32
        /// Calls to let through before failing.
        var skip: Int
        /// Calls to fail after that (`Int.max`: until cleared).
        var times: Int
        /// For writes: write the first half of the bytes before failing (a torn frame).
        var torn: Bool
    }

    private let plans = Mutex<[Operation: Plan]>([:])
    private let injected = Mutex<[Operation: Int]>([:])
    /// Milliseconds each call of an operation takes before it runs (a slow disk).
    private let delays = Mutex<[Operation: Int]>([:])
    /// Calls of each operation waiting out their delay now, and the most there were at once.
    private let delaying = Mutex<(now: [Operation: Int], most: [Operation: Int])>(([:], [:]))

    public init() {}

    /// Makes `operation` fail with `errno` `times` times, after letting `after` calls through. With `torn`, a failing
    /// write writes half of its bytes first.
    public func fail(
        _ operation: Operation, errno: Int32 = ENOSPC, after: Int = 0, times: Int = Int.max, torn: Bool = false
    ) {
        plans.withLock { $0[operation] = Plan(errno: errno, skip: after, times: times, torn: torn) }
    }

    /// Stops planned failures and delays of `operation` (of every operation when nil).
    public func clear(_ operation: Operation? = nil) {
        plans.withLock { plans in
            if let operation { plans[operation] = nil } else { plans.removeAll() }
        }
        delays.withLock { delays in
            if let operation { delays[operation] = nil } else { delays.removeAll() }
        }
    }

    /// Makes every call of `operation` that asks before it runs (fsync, file creation, catalog commit) take
    /// `milliseconds` more, as a slow disk would, until cleared.
    public func slow(_ operation: Operation, milliseconds: Int) {
        delays.withLock { $0[operation] = milliseconds }
    }

    /// Failures injected so far for `operation`.
    public func injectedCount(_ operation: Operation) -> Int {
        injected.withLock { $0[operation] ?? 0 }
    }

    /// The failure planned for this call of `operation`, if any: (errno, torn).
    func take(_ operation: Operation) -> (errno: Int32, torn: Bool)? {
        let taken: (errno: Int32, torn: Bool)? = plans.withLock { plans in
            guard var plan = plans[operation] else { return nil }
            if plan.skip > 0 {
                plan.skip -= 1
                plans[operation] = plan
                return nil
            }
            guard plan.times > 0 else { return nil }
            if plan.times != Int.max { plan.times -= 1 }
            plans[operation] = plan
            return (plan.errno, plan.torn)
        }
        if taken != nil { injected.withLock { $0[operation, default: 0] += 1 } }
        return taken
    }

    /// Throws the planned failure of `operation`, if any, as the system call would have, after the call's delay.
    func check(_ operation: Operation, call: String, path: String) throws {
        delay(operation)
        try checkFailure(operation, call: call, path: path)
    }

    /// `check` without the delay: for calls that take their delay apart (`delay(_:)`), where they run.
    func checkFailure(_ operation: Operation, call: String, path: String) throws {
        guard let fault = take(operation) else { return }
        throw SegmentError.injected(call, path: path, errno: fault.errno)
    }

    /// Waits for the delay of a call of `operation` (`slow`), if one is set, counting the calls waiting at once.
    func delay(_ operation: Operation) {
        guard let delay = delays.withLock({ $0[operation] }), delay > 0 else { return }
        delaying.withLock { counts in
            counts.now[operation, default: 0] += 1
            counts.most[operation] = max(counts.most[operation] ?? 0, counts.now[operation]!)
        }
        usleep(UInt32(delay) * 1000)
        delaying.withLock { $0.now[operation, default: 1] -= 1 }
    }

    /// The most calls of `operation` that waited out their delay at the same time (`slow`): how many ran at once.
    public func mostAtOnce(_ operation: Operation) -> Int {
        delaying.withLock { $0.most[operation] ?? 0 }
    }
}

extension SegmentError {
    /// The error a failed system call would give, for an injected fault.
    static func injected(_ operation: String, path: String, errno code: Int32) -> SegmentError {
        SegmentError(.io, "\(operation) \(path): \(String(cString: strerror(code)))", errno: code)
    }
}
