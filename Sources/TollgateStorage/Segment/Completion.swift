import Dispatch
import Synchronization

/// A value one thread finishes once and others wait for: the outcome of work handed to another thread (an fsync
/// run off the writer's thread, the next segment's files made ahead).
final class Completion<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    private let signalled = DispatchSemaphore(value: 0)

    init() {}

    /// Sets the value and wakes whoever waits: once.
    func finish(_ result: Value) {
        value.withLock { $0 = result }
        signalled.signal()
    }

    /// The value, nil while the work runs.
    var current: Value? { value.withLock { $0 } }

    /// Waits for `finish(_:)` and gives its value.
    func wait() -> Value {
        if let done = current { return done }
        signalled.wait()
        // Signalled once: a later wait reads the value above without waiting.
        return current!
    }
}
