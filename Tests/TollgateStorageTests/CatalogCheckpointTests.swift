import Foundation
import Logging
import Testing
import TollgateModel

@testable import TollgateStorage

/// The catalog's write-ahead log is copied into its file by `checkpointIfDue()`, which the log store calls after a
/// commit outside its lock, and never inside a commit: a checkpoint fsyncs the log and the file, and appends to the
/// store must not wait for that.
@Suite struct CatalogCheckpointTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "tollgate-checkpoint-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Writes catalog commits (an account each) until the write-ahead log holds `pages` pages.
    func grow(_ catalog: Catalog, to pages: Int, from first: Int = 0) throws -> Int {
        var i = first
        while catalog.writeAheadLogPages < pages {
            _ = try catalog.createAccount(id: "account-\(i)", tier: "paid")
            i += 1
            guard i - first < 100_000 else { throw CatalogError(code: .invalidValue, message: "the log did not grow") }
        }
        return i
    }

    @Test func commitsLeaveTheWriteAheadLogToTheCheckpoint() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let catalog = try Catalog(dataDirectory: directory)
        // SQLite's auto-checkpoint would have copied the log and started it over at 1,000 pages.
        let next = try grow(catalog, to: Catalog.checkpointPages + 200)
        #expect(catalog.writeAheadLogPages >= Catalog.checkpointPages + 200)
        #expect(try catalog.checkpointIfDue())
        #expect(catalog.writeAheadLogPages == 0)
        #expect(try !catalog.checkpointIfDue())
        // Copied whole: the next commit starts the log over.
        _ = try catalog.createAccount(id: "account-\(next)", tier: "paid")
        #expect(catalog.writeAheadLogPages > 0)
        #expect(catalog.writeAheadLogPages < 20)
        #expect(try catalog.account("account-0") != nil)
        #expect(try catalog.account("account-\(next)") != nil)
    }

    @Test func aCommitOfTheLogStoreCheckpointsTheCatalogOnceItIsDue() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try LogStore(directory: directory, logger: logger)
        let ids = LogIDGenerator()
        func record() -> LogRecord {
            let id = ids.next()
            return LogRecord(
                id: id, createdAt: id.milliseconds, account: "default", gateway: "default", provider: "openai",
                model: "gpt-5-mini", path: "/chat/completions", method: "POST", statusCode: 200, success: true,
                stream: false, durationMicros: 1000, ttftMicros: 10, usage: Usage(tokensIn: 3, tokensOut: 2),
                requestSize: 5, responseSize: 6, requestBody: Array("request".utf8),
                responseBody: Array("response".utf8))
        }
        try store.append([record()])
        try store.commit()
        let below = store.catalog.writeAheadLogPages
        #expect(below > 0 && below < Catalog.checkpointPages)
        _ = try grow(store.catalog, to: Catalog.checkpointPages)
        let logged = record()
        try store.append([logged])
        try store.commit()
        #expect(store.catalog.writeAheadLogPages == 0)
        #expect(try store.record(account: "default", id: logged.id) == logged)
        try store.close()
    }
}

extension CatalogCheckpointTests {
    @Test func writesThatNoCheckpointFollowsKeepABoundedLog() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let catalog = try Catalog(dataDirectory: directory)
        var i = try grow(catalog, to: Catalog.checkpointPages * 4 - 20)
        var highest = catalog.writeAheadLogPages
        for _ in 0..<400 {
            _ = try catalog.createAccount(id: "account-\(i)", tier: "paid")
            i += 1
            highest = max(highest, catalog.writeAheadLogPages)
        }
        // The commit that reached four times the threshold checkpointed, and the log started over.
        #expect(highest < Catalog.checkpointPages * 4)
        #expect(catalog.writeAheadLogPages < Catalog.checkpointPages)
        let walSize = try FileManager.default.attributesOfItem(atPath: catalog.path + "-wal")[.size] as? Int ?? 0
        #expect(walSize < Catalog.checkpointPages * 4 * 4_200)
    }
}
