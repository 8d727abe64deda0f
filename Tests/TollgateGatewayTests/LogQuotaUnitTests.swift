import Foundation
import Logging
import Synchronization
import Testing
import TollgateGateway
import TollgateModel
import TollgateStorage

/// `LogQuota` alone: reservations, month rollover, and the 80 % / 100 % warnings logged once a month.
struct LogQuotaUnitTests {
    final class Recorded: Sendable {
        let messages = Mutex<[String]>([])
    }

    struct RecordingHandler: LogHandler {
        let recorded: Recorded
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            recorded.messages.withLock { $0.append(event.message.description) }
        }
    }

    @Test func warnsOnceAtEightyAndAtOneHundredPercentAndRollsOverWithTheMonth() throws {
        let catalog = try Catalog(dataDirectory: makeTemporaryDirectory())
        let account = try catalog.createAccount(id: "acme", tier: .free)
        let clock = Mutex<Int64>(RFC3339.parse("2026-11-30T23:00:00Z")!)
        let recorded = Recorded()
        let quota = try LogQuota(
            catalog: catalog, logger: Logger(label: "test") { _ in RecordingHandler(recorded: recorded) },
            now: { clock.withLock { $0 } })
        var limited = account
        limited.logLimit = 10
        quota.update(limited)
        let now = clock.withLock { $0 }

        for _ in 0..<7 { #expect(quota.admit(account: "acme") == .store) }
        quota.committed(account: "acme", admitted: now, count: 7)
        #expect(recorded.messages.withLock { $0 }.isEmpty)
        #expect(quota.admit(account: "acme") == .store)
        quota.committed(account: "acme", admitted: now, count: 1)
        #expect(recorded.messages.withLock { $0 } == ["log quota at 80 %"])
        quota.committed(account: "acme", admitted: now, count: 0)
        #expect(quota.admit(account: "acme") == .store)
        quota.release(account: "acme", admitted: now)  // dropped on the way: its place comes back
        for _ in 0..<2 { #expect(quota.admit(account: "acme") == .store) }
        #expect(quota.admit(account: "acme") == .usageOnly, "8 stored + 2 reserved = the limit")
        quota.committed(account: "acme", admitted: now, count: 2)
        #expect(recorded.messages.withLock { $0 } == ["log quota at 80 %", "log quota reached"])
        #expect(quota.usage(of: limited).used == 10)

        // A new month starts from zero, with its own warnings.
        clock.withLock { $0 = RFC3339.parse("2026-12-01T00:00:01Z")! }
        #expect(quota.usage(of: limited).used == 0)
        #expect(quota.admit(account: "acme") == .store)
        // A reservation of the month that ended does not count in the new one.
        quota.committed(account: "acme", admitted: now, count: 1)
        #expect(quota.usage(of: limited).used == 0)
    }
}
