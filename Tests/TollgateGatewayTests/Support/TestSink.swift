import Synchronization
import TollgateGateway
import TollgateModel

/// Collects submitted exchanges for assertions.
final class TestSink: ExchangeSink {
    private let exchanges = Mutex<[Exchange]>([])

    func submit(_ exchange: consuming Exchange) {
        let exchange = exchange
        exchanges.withLock { $0.append(exchange) }
    }

    var all: [Exchange] { exchanges.withLock { $0 } }

    /// Waits (at most `timeoutMillis`) until `count` exchanges arrived; returns what arrived.
    func wait(for count: Int, timeoutMillis: Int = 3000) async -> [Exchange] {
        for _ in 0..<(timeoutMillis / 10) {
            let now = all
            if now.count >= count { return now }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return all
    }
}
