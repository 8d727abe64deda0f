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
