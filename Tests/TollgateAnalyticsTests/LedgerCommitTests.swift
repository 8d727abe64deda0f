import Foundation
import Logging
import Testing
import TollgateAnalytics
import TollgateModel
import TollgateStorage

/// The ledger's rollups follow the store's commits when a commit's fsync runs while appends go on: each checkpoint
/// covers what its commit covered, and after a crash in the middle the restart replays the rest, so every stored
/// record is counted once.
@Suite struct LedgerCommitTests {
    let ids = LogIDGenerator()
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func record(_ i: Int) -> LogRecord {
        let id = ids.next()
        return LogRecord(
            id: id, createdAt: id.milliseconds, account: "acme", gateway: "default", provider: "openai",
            model: "gpt-5-mini", path: "/chat/completions", method: "POST", statusCode: 200, success: true,
            stream: false, durationMicros: 1000 + Int64(i), ttftMicros: 10,
            usage: Usage(tokensIn: Int64(i), tokensOut: 2), requestSize: 5, responseSize: 6,
            requestBody: Array("request \(i)".utf8), responseBody: Array("response \(i)".utf8))
    }

    func requests(_ ledger: Ledger, _ records: [LogRecord]) throws -> Int64 {
        let from = records.map(\.createdAt).min()! / 86_400_000 * 86_400_000 - 86_400_000
        let query = UsageQuery(account: "acme", from: from, to: from + 3 * 86_400_000, interval: .day)
        return try ledger.rollups.usage(query).totals.requests
    }

    @Test func aCrashWhileACommitsFsyncRunsCountsEveryStoredRecordOnce() throws {
        let directory = scratchDirectory("ledger-commit")
        let records = (0..<200).map(record)
        do {
            let (ledger, store) = try Ledger.openStore(directory: directory, logger: logger)
            try store.append(Array(records[0..<100]))
            let first = try #require(try store.beginCommit())
            try store.append(Array(records[100..<160]))
            first.run()
            try store.finishCommit(first)
            // The checkpoint holds what the commit covered; what came during its fsync waits.
            #expect(ledger.rollups.pendingInputs == 60)
            let position = try #require(try ledger.replayPosition())
            let last = try #require(try store.lookup(account: "acme", id: records[99].id)).entry.location
            #expect(position.segment == last.segment && position.offset == last.offset)
            let second = try #require(try store.beginCommit())
            try store.append(Array(records[160...]))
            second.run()
            // The process dies before the second commit finishes.
        }
        let (ledger, store) = try Ledger.openStore(directory: directory, logger: logger)
        let stored = try store.storedRecordCount()
        #expect(stored >= 160)
        #expect(try requests(ledger, records) == Int64(stored))
        #expect(
            try store.catalog.listLogs(LogQuery(account: "acme", order: .ascending, limit: 1000)).entries.map(\.id)
                == records.prefix(stored).map(\.id))
        try store.close()
    }
}
