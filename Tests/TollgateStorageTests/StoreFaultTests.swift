import Foundation
import Glibc
import Logging
import Testing
import TollgateModel

@testable import TollgateStorage

/// Write faults (a full disk, `EIO`) injected at the writer's system calls and the catalog commit: the store cuts the
/// active segment back to its last durable frame, counts the lost records as failed, retries, and goes on without
/// a restart; nothing committed is lost and nothing is indexed that is not stored.
@Suite("Log store survives write faults")
struct StoreFaultTests {
    let ids = LogIDGenerator()

    struct Fixture {
        let directory: TemporaryDirectory
        let faults = StorageFaults()
        let clock = TestClock()
        var configuration = LogStore.Configuration()

        init(_ change: (inout LogStore.Configuration) -> Void = { _ in }) {
            directory = TemporaryDirectory()
            configuration.segments.trainsDictionary = false
            configuration.segments.faults = faults
            configuration.segments.clock = clock.clock
            configuration.retryInitialMillis = 100
            configuration.retryMaxMillis = 1_000
            configuration.probeBytes = 4096
            change(&configuration)
        }

        func open(observer: (any LogStoreObserver)? = nil) throws -> LogStore {
            try LogStore(
                directory: directory.path, configuration: configuration, observer: observer, logger: quietLogger)
        }
    }

    func record(_ i: Int) -> LogRecord {
        let id = ids.next()
        return LogRecord(
            id: id, createdAt: id.milliseconds, account: "default", gateway: "default", provider: "openai",
            model: "gpt-5-mini", path: "/chat/completions", method: "POST", statusCode: 200, success: true,
            stream: false, durationMicros: 1000 + Int64(i), ttftMicros: 10,
            usage: Usage(tokensIn: Int64(i), tokensOut: 2), requestSize: 5, responseSize: 6,
            requestBody: Array("request \(i) \(String(repeating: "x", count: i % 50))".utf8),
            responseBody: Array("response \(i)".utf8))
    }

    func listed(_ store: LogStore) throws -> [LogID] {
        try store.catalog.listLogs(LogQuery(account: "default", order: .ascending, limit: 1000)).entries.map(\.id)
    }

    /// Every listed log reads back as the record appended; the catalog and the segments agree.
    func expectConsistent(_ store: LogStore, listing expected: [LogRecord]) throws {
        #expect(try listed(store) == expected.map(\.id))
        for r in expected { #expect(try store.record(account: "default", id: r.id) == r) }
        #expect(try store.indexDisagreements() == [])
    }

    @Test(arguments: [StorageFaults.Operation.segmentWrite, .segmentSync])
    func aFailedCommitCutsTheTailCountsItFailedAndTheNextBatchIsStored(operation: StorageFaults.Operation) throws {
        let fixture = Fixture()
        defer { fixture.directory.remove() }
        let store = try fixture.open()
        let committed = (0..<10).map(record)
        try store.append(committed)
        try store.commit()
        let durableSize = try fileSize(fixture.directory.segmentPath(1))

        // The next commit fails: a torn write, or an fsync error.
        fixture.faults.fail(operation, errno: operation == .segmentSync ? EIO : ENOSPC, times: 1, torn: true)
        let lost = (10..<15).map(record)
        try store.append(lost)
        #expect(throws: SegmentError.self) { try store.commit() }
        #expect(fixture.faults.injectedCount(operation) == 1)

        // The tail is cut back in place to the last durable frame; the lost records are counted as failed.
        #expect(try fileSize(fixture.directory.segmentPath(1)) == durableSize)
        var status = store.writeStatus
        #expect(!status.isReady)
        #expect(status.health.failure?.operation == (operation == .segmentSync ? .sync : .append))
        #expect(status.health.failure?.since == fixture.clock.now)
        #expect(status.statistics.recordsFailed == 5)
        #expect(status.statistics.recordsDiscarded == 5)
        #expect(status.statistics.recordsAppended == 10)
        try expectConsistent(store, listing: committed)

        // The next batch is written without a restart, and its commit ends the failing state.
        let later = (15..<20).map(record)
        try store.append(later)
        try store.commit()
        status = store.writeStatus
        #expect(status.isReady)
        #expect(status.health.lastError?.operation == (operation == .segmentSync ? .sync : .append))
        #expect(status.statistics.recordsCommitted == 15)
        try expectConsistent(store, listing: committed + later)
        try store.close()

        let reopened = try fixture.open()
        #expect(reopened.statistics.recordsRecovered == 0)
        try expectConsistent(reopened, listing: committed + later)
        try reopened.close()
    }

    @Test func aBufferFullWriteFailingInsideAppendLosesOnlyWhatWasNotDurable() throws {
        // A block per record, so that blocks close and fill the buffer while the batch is appended.
        let fixture = Fixture {
            $0.segments.writeBufferBytes = 600
            $0.segments.blockRecords = 1
        }
        defer { fixture.directory.remove() }
        let store = try fixture.open()
        let committed = (0..<4).map(record)
        try store.append(committed)
        try store.commit()
        // The third buffer write of the batch fails: the batch's earlier records were written but not durable.
        fixture.faults.fail(.segmentWrite, after: 2, times: 1, torn: true)
        let batch = (4..<40).map(record)
        #expect(throws: SegmentError.self) { try store.append(batch) }
        let statistics = store.statistics
        #expect(statistics.recordsFailed == 36)
        #expect(statistics.recordsAppended == 4)
        #expect(!store.writeStatus.isReady)
        // Already cut and repaired: the next batch goes in, and its commit ends the failing state.
        let later = (40..<45).map(record)
        try store.append(later)
        try store.commit()
        #expect(store.writeStatus.isReady)
        try expectConsistent(store, listing: committed + later)
        try store.close()
    }

    @Test func aFailedCatalogCommitKeepsTheDurableRecordsAndIndexesThemOnRetry() throws {
        let fixture = Fixture()
        defer { fixture.directory.remove() }
        let store = try fixture.open()
        fixture.faults.fail(.catalogCommit, errno: ENOSPC, times: 2)
        let records = (0..<8).map(record)
        try store.append(records)
        #expect(throws: SegmentError.self) { try store.commit() }
        #expect(store.writeStatus.health.failure?.operation == .catalogCommit)
        #expect(try listed(store).isEmpty)
        // Durable, not indexed: nothing is counted as failed.
        #expect(store.statistics.recordsFailed == 0)
        #expect(try store.indexDisagreements() == [])  // pending records are not a disagreement

        // Before the backoff passes, a commit with nothing new does no I/O.
        #expect(throws: SegmentError.self) { try store.commit() }
        #expect(fixture.faults.injectedCount(.catalogCommit) == 1)
        fixture.clock.advance(by: 100)
        #expect(throws: SegmentError.self) { try store.commit() }
        #expect(fixture.faults.injectedCount(.catalogCommit) == 2)
        #expect(store.writeStatus.health.failure?.attempts == 2)
        #expect(store.writeStatus.health.failure?.nextRetryAt == fixture.clock.now + 200)
        fixture.clock.advance(by: 200)
        try store.commit()
        #expect(store.writeStatus.isReady)
        try expectConsistent(store, listing: records)
        try store.close()
    }

    @Test func withNothingToWriteARetryProbesTheDiskAndRecoversWhenItTakesWrites() throws {
        let fixture = Fixture()
        defer { fixture.directory.remove() }
        let store = try fixture.open()
        let committed = (0..<3).map(record)
        try store.append(committed)
        try store.commit()
        let size = try fileSize(fixture.directory.segmentPath(1))
        fixture.faults.fail(.segmentWrite, errno: ENOSPC)  // until cleared
        try store.append([record(3)])
        #expect(throws: SegmentError.self) { try store.commit() }
        #expect(fixture.faults.injectedCount(.segmentWrite) == 1)
        // Retries follow the backoff (100, 200, 400 ms), each a probe write that fails.
        for (step, delay) in [100, 200, 400].enumerated() {
            #expect(throws: SegmentError.self) { try store.commit() }
            #expect(fixture.faults.injectedCount(.segmentWrite) == 1 + step)
            fixture.clock.advance(by: Int64(delay))
            #expect(throws: SegmentError.self) { try store.commit() }
            #expect(fixture.faults.injectedCount(.segmentWrite) == 2 + step)
        }
        #expect(store.writeStatus.health.failure?.attempts == 4)
        #expect(try fileSize(fixture.directory.segmentPath(1)) == size)
        // Space again: the next due retry's probe succeeds, the store is ready with no new record, and the probe left
        // nothing behind.
        fixture.faults.clear()
        fixture.clock.advance(by: 800)
        try store.commit()
        #expect(store.writeStatus.isReady)
        #expect(try fileSize(fixture.directory.segmentPath(1)) == size)
        try expectConsistent(store, listing: committed)
        try store.close()
    }

    @Test func aRotationThatCannotCreateTheNextSegmentIsFinishedByTheRetry() throws {
        let fixture = Fixture { $0.segments.maxSegmentBytes = 2048 }
        defer { fixture.directory.remove() }
        let store = try fixture.open()
        fixture.faults.fail(.segmentCreate, errno: ENOSPC, times: 1)
        var before: [LogRecord] = []
        var failed: [LogRecord] = []
        var after: [LogRecord] = []
        for batch in 0..<10 {
            let records = (batch * 5..<batch * 5 + 5).map(record)
            do {
                try store.append(records)
                try store.commit()
                if failed.isEmpty { before += records } else { after += records }
            } catch {
                #expect(failed.isEmpty)
                failed = records
            }
        }
        #expect(failed.count == 5)
        #expect(fixture.faults.injectedCount(.segmentCreate) == 1)
        #expect(store.writeStatus.isReady)
        // The failed batch's records before the rotation were sealed (durable) and are kept; the rest failed.
        let kept = try listed(store).count - before.count - after.count
        #expect(kept >= 0 && kept < 5)
        #expect(store.statistics.recordsFailed == 5 - kept)
        #expect(try store.catalog.segments().filter { $0.state == .sealed }.count >= 2)
        try expectConsistent(store, listing: before + failed.prefix(max(kept, 0)) + after)
        try store.close()
    }

    @Test func aSealWhoseFsyncFailsIsCutOffAndDoneAgainWithoutLosingARecord() throws {
        let fixture = Fixture { $0.segments.maxSegmentAgeMillis = 60_000 }
        defer { fixture.directory.remove() }
        let store = try fixture.open()
        let records = (0..<12).map(record)
        try store.append(records)
        try store.commit()
        let durableSize = try fileSize(fixture.directory.segmentPath(1))
        // The segment is due for sealing by age; the seal's fsync fails.
        fixture.clock.advance(by: 60_000)
        fixture.faults.fail(.segmentSync, errno: EIO, times: 1)
        #expect(throws: SegmentError.self) { try store.commit() }
        #expect(store.writeStatus.health.failure?.operation == .sync)
        // The seal frames are cut off: segment 1 is an unsealed tail again, with every record.
        #expect(try fileSize(fixture.directory.segmentPath(1)) == durableSize)
        #expect(try store.reader.footer(of: 1) == nil)
        #expect(store.statistics.recordsFailed == 0)
        try expectConsistent(store, listing: records)
        // The retry seals it.
        fixture.clock.advance(by: 100)
        try store.commit()
        #expect(store.writeStatus.isReady)
        #expect(try store.reader.footer(of: 1)?.recordCount == 12)
        #expect(try store.catalog.segments().first { $0.seq == 1 }?.state == .sealed)
        let later = (12..<15).map(record)
        try store.append(later)
        try store.commit()
        try expectConsistent(store, listing: records + later)
        try store.close()
    }

    @Test func aWarningIsLoggedOncePerChangeNotPerRecordOrRetry() throws {
        let fixture = Fixture()
        defer { fixture.directory.remove() }
        let log = RecordingLogHandler.Lines()
        let logger = Logger(label: "test") { _ in RecordingLogHandler(lines: log) }
        let store = try LogStore(
            directory: fixture.directory.path, configuration: fixture.configuration, logger: logger)
        try store.append((0..<3).map(record))
        try store.commit()
        fixture.faults.fail(.segmentWrite, errno: ENOSPC)
        for batch in 0..<5 {
            try? store.append((10 * batch..<10 * batch + 10).map(record))
            try? store.commit()
            fixture.clock.advance(by: 2_000)
            try? store.commit()
        }
        #expect(store.statistics.recordsFailed == 50)
        #expect(store.writeStatus.health.failure?.attempts == 10)
        // Another reason: the catalog, after the segment takes writes again.
        fixture.faults.clear()
        fixture.faults.fail(.catalogCommit, errno: ENOSPC, times: 3)
        for batch in 5..<8 {
            try? store.append((10 * batch..<10 * batch + 10).map(record))
            try? store.commit()
        }
        fixture.clock.advance(by: 2_000)
        try store.commit()
        #expect(store.writeStatus.isReady)
        #expect(
            log.warnings == [
                "log store cannot write; records are not stored until a retry succeeds",
                "log store still cannot write, for another reason",
                "log store writes again",
            ])
        try store.close()
    }

    @Test func theObserverTakesBackWhatWasNeverStored() throws {
        let fixture = Fixture()
        defer { fixture.directory.remove() }
        let observer = CountingObserver()
        let store = try LogStore(
            directory: fixture.directory.path, configuration: fixture.configuration, observer: observer,
            logger: quietLogger)
        try store.append((0..<6).map(record))
        try store.commit()
        fixture.faults.fail(.segmentSync, errno: EIO, times: 1)
        // Logs and usage records (never indexed, still folded) alike.
        try store.append(
            (6..<10).map { i in
                var r = record(i)
                r.logged = i % 2 == 0
                return r
            })
        #expect(throws: SegmentError.self) { try store.commit() }
        #expect(store.statistics.recordsDiscarded == 4)
        #expect(observer.tokensIn == (0..<6).reduce(0, +))
        try store.append((10..<12).map(record))
        try store.commit()
        #expect(observer.count == 8)
        #expect(observer.tokensIn == (0..<6).reduce(0, +) + 10 + 11)
        try store.close()
    }
}

/// Counts what it was told was appended, minus what was discarded.
final class CountingObserver: LogStoreObserver, @unchecked Sendable {
    var count = 0
    var tokensIn: Int64 = 0
    func price(of record: LogRecord) -> Int64? { nil }
    func appended(_ record: UnsafePointer<LogRecord>, price: Int64?) {
        count += 1
        tokensIn += record.pointee.usage.tokensIn ?? 0
    }
    func discarded(_ entries: [LogIndexEntry]) {
        count -= entries.count
        tokensIn -= entries.reduce(0) { $0 + ($1.usage.tokensIn ?? 0) }
    }
    func committed(through last: RecordLocation?) throws {}
}

/// Keeps the messages logged at warning level and above.
struct RecordingLogHandler: LogHandler {
    final class Lines: @unchecked Sendable {
        // @unchecked Sendable: `messages` is only touched under `lock`.
        private let lock = NSLock()
        private var messages: [String] = []
        func append(_ message: String) { lock.withLock { messages.append(message) } }
        var warnings: [String] { lock.withLock { messages } }
    }

    let lines: Lines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        if event.level >= .warning { lines.append("\(event.message)") }
    }
}
