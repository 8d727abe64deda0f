import Synchronization

/// Numbers the requests of one mock provider, for `x-request-id` headers.
final class RequestCounter: Sendable {
    private let value = Atomic<UInt64>(0)

    func next() -> UInt64 {
        value.wrappingAdd(1, ordering: .relaxed).newValue
    }

    /// Requests numbered so far.
    var count: UInt64 { value.load(ordering: .relaxed) }
}

/// Counts requests per key, for `fail-first`: how many requests with a key came before this one.
final class KeyedRequestCounter: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    /// Counts one more request with `key`; returns how many there were before it.
    func next(_ key: String) -> Int {
        counts.withLock { counts in
            let before = counts[key, default: 0]
            counts[key] = before + 1
            return before
        }
    }
}
