import Foundation
import Logging
import Testing
import TollgateModel

@testable import TollgateStorage

/// The store facade: records are listed only after commit, survive reopen, and a store dropped without closing
/// (a crash) re-indexes its durable tail on open.
@Suite struct LogStoreTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    let ids = LogIDGenerator()

    func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "tollgate-logstore-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func record(_ i: Int, account: String = "default") -> LogRecord {
        let id = ids.next()
        return LogRecord(
            id: id, createdAt: id.milliseconds, account: account, gateway: "default", provider: "openai",
            model: "gpt-5-mini", path: "/chat/completions", method: "POST", statusCode: 200, success: true,
            stream: false, durationMicros: 1000 + Int64(i), ttftMicros: 10,
            usage: Usage(tokensIn: Int64(i), tokensOut: 2), requestSize: 5, responseSize: 6,
            requestBody: Array("request \(i)".utf8), responseBody: Array("response \(i)".utf8))
    }

    func listed(_ store: LogStore, account: String = "default") throws -> [LogID] {
        try store.catalog.listLogs(LogQuery(account: account, order: .ascending, limit: 1000)).entries.map(\.id)
    }

    @Test func recordsAreListedAfterCommitAndReadBack() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try LogStore(directory: directory, logger: logger)
        let records = (0..<20).map { record($0) }
        try store.append(records)
        #expect(try listed(store).isEmpty)
        try store.commit()
        #expect(try listed(store) == records.map(\.id))
        for r in records { #expect(try store.record(account: "default", id: r.id) == r) }
        #expect(try store.record(account: "other", id: records[0].id) == nil)
        #expect(store.statistics.recordsCommitted == 20)
        try store.close()
    }

    @Test func durableButUnindexedTailIsReindexedOnOpen() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var records: [LogRecord] = []
        do {
            let store = try LogStore(directory: directory, logger: logger)
            records = (0..<10).map { record($0) }
            try store.append(records)
            // Crash after the segment's fsync but before indexing: sync the writer only.
            try store.syncWithoutIndexing()
        }
        let reopened = try LogStore(directory: directory, logger: logger)
        #expect(try listed(reopened) == records.map(\.id))
        #expect(reopened.statistics.recordsRecovered == 10)
        try reopened.close()
    }

    @Test func segmentSealedBeforeACrashIsIndexedOnOpen() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = LogStore.Configuration()
        configuration.segments.maxSegmentBytes = 4096  // rotate every few records
        configuration.segments.trainsDictionary = false
        var records: [LogRecord] = []
        do {
            let store = try LogStore(directory: directory, configuration: configuration, logger: logger)
            records = (0..<60).map { record($0) }
            try store.append(records)  // rotations seal segments inside append; nothing indexed yet
            try store.syncWithoutIndexing()
        }
        let reopened = try LogStore(directory: directory, configuration: configuration, logger: logger)
        #expect(try listed(reopened) == records.map(\.id))
        let sealed = try reopened.catalog.segments().filter { $0.state == .sealed }
        #expect(sealed.count >= 2)
        #expect(sealed.reduce(0) { $0 + $1.recordCount } + Int64(try reopened.tailRecordCount()) == 60)
        try reopened.close()
    }

    @Test func cleanCloseSealsAndReopenScansNothing() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try LogStore(directory: directory, logger: logger)
        let records = (0..<5).map { record($0) }
        try store.append(records)
        try store.commit()
        try store.close()
        // The catalog is whole in its file: the write-ahead log was emptied while the store's connections were open.
        let wal = directory + "/" + Catalog.fileName + "-wal"
        #expect((try FileManager.default.attributesOfItem(atPath: wal)[.size] as? Int) ?? 0 == 0)
        let reopened = try LogStore(directory: directory, logger: logger)
        #expect(reopened.statistics.recordsRecovered == 0)
        #expect(try listed(reopened) == records.map(\.id))
        #expect(try reopened.catalog.segments().first?.state == .sealed)
        try reopened.close()
    }

    @Test func oneWriterPerDataFolder() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try LogStore(directory: directory, logger: logger)
        #expect {
            _ = try LogStore(directory: directory, logger: logger)
        } throws: { error in
            (error as? CatalogError)?.code == .dataFolderInUse
        }
        try store.close()
        let reopened = try LogStore(directory: directory, logger: logger)
        try reopened.close()
    }

    @Test func usageRecordsAreStoredAndReplayedButNeverListed() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var usage = record(1)
        usage.logged = false
        usage.requestBody = []
        usage.responseBody = []
        usage.payloadStored = false
        let logged = record(2)
        do {
            let store = try LogStore(directory: directory, logger: logger)
            try store.append([usage, logged])
            try store.syncWithoutIndexing()  // a crash before indexing: recovery must not index the usage record
        }
        let store = try LogStore(directory: directory, logger: logger)
        #expect(try listed(store) == [logged.id])
        // Both records were read back from the tail; only the log was listed again.
        #expect(store.statistics.recordsScanned == 2)
        #expect(store.statistics.recordsRecovered == 1)
        #expect(try store.catalog.storedLogs(account: "default", monthStart: UTCMonth.start(of: logged.createdAt)) == 1)
        var replayed: [LogID] = []
        try store.replay(after: nil) { replayed.append($0.id) }
        #expect(replayed == [usage.id, logged.id])
        #expect(try RecordCodec.decode(RecordCodec.encode(usage)) == usage)
        try store.close()
    }
}
