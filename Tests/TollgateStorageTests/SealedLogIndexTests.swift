import Foundation
import Logging
import Testing
import TollgateModel

@testable import TollgateStorage

/// A sealed segment with its listing columns answers for its logs: its rows leave the catalog's `logs` table, and
/// listing, lookup, annotation, deletion, repricing and reopening go through its columns, summary and costs.
@Suite("Sealed segments answer for their logs")
struct SealedLogIndexTests {
    let helpers = CompactionTests()

    /// Prices a record at 1,000 picodollars per input token (unpriced without tokens).
    final class Pricing: LogStoreObserver {
        func price(of record: LogRecord) -> Int64? { record.usage.tokensIn.map { $0 * 1_000 } }
        func appended(_ record: UnsafePointer<LogRecord>, price: Int64?) {}
        func discarded(_ entries: [LogIndexEntry]) {}
        func committed(through last: RecordLocation?) throws {}
    }

    func open(_ directory: String) throws -> LogStore {
        try LogStore(
            directory: directory, configuration: helpers.configuration, observer: Pricing(), logger: helpers.logger)
    }

    /// A store in `directory` holding `count` committed records (most of them in sealed segments).
    func populated(_ directory: String, count: Int) throws -> (store: LogStore, records: [LogRecord]) {
        let store = try open(directory)
        let records = (0..<count).map(helpers.record)
        try store.append(records)
        try store.commit()
        return (store, records)
    }

    func logRows(_ catalog: Catalog) throws -> Int64 {
        try catalog.read { try $0.queryFirst("SELECT count(*) FROM logs") { $0.int64(at: 0) } ?? -1 }
    }

    @Test func sealedLogsLeaveTheRowsAndAnswerEveryCall() throws {
        let directory = helpers.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let filled = try populated(directory, count: 60)
        var store = filled.store
        let records = filled.records
        let catalog = store.catalog
        #expect(catalog.sealedLogs.summaries.count > 3)
        // No log has a row: the active segment's are in memory, the sealed ones' in their columns.
        #expect(try logRows(catalog) == 0)
        #expect(try store.tailRecordCount() > 0)
        #expect(try helpers.listed(store) == records.map(\.id))

        // A log of a sealed segment: by id, with its cost; its record.
        let old = records[1]
        let entry = try #require(try catalog.logEntry(account: "default", id: old.id))
        #expect(catalog.sealedLogs.segment(entry.location.segment) != nil)
        #expect(entry == LogIndexEntry(old, location: entry.location, price: 1_000))
        #expect(try store.record(account: "default", id: old.id) == old)
        #expect(try catalog.logEntry(account: "other", id: old.id) == nil)

        // Filters across sealed segments and the active one.
        var byModel = LogQuery(account: "default", model: "gpt-5", order: .ascending, limit: 7)
        var listed: [LogID] = []
        for _ in 0..<20 {
            let page = try catalog.listLogs(byModel)
            listed += page.entries.map(\.id)
            guard let next = page.nextCursor else { break }
            byModel.cursor = next
        }
        #expect(listed == records.filter { $0.model == "gpt-5" }.map(\.id))

        // Feedback on a sealed log, then the feedback filter finds it.
        let annotated = try catalog.annotateLog(account: "default", id: old.id, LogAnnotation(feedback: 1), at: 1)
        #expect(annotated?.annotation?.feedback == 1)
        var positive = LogQuery(account: "default")
        positive.feedback = 1
        #expect(try catalog.listLogs(positive).entries.map(\.id) == [old.id])
        #expect(try catalog.orphanedAnnotations() == 0)

        // Deleting it: gone from the listing, the lookup and the month's count; a second delete finds nothing.
        let month = UTCMonth.start(of: old.createdAt)
        let stored = try catalog.storedLogs(account: "default", monthStart: month)
        #expect(try catalog.deleteLog(account: "default", id: old.id))
        #expect(try !catalog.deleteLog(account: "default", id: old.id))
        #expect(try catalog.logEntry(account: "default", id: old.id) == nil)
        #expect(try catalog.storedLogs(account: "default", monthStart: month) == stored - 1)
        #expect(try catalog.listLogs(positive).entries.isEmpty)
        #expect(try catalog.orphanedAnnotations() == 0)

        // Deleting by filter reaches sealed and active logs alike.
        let failed = records.filter { $0.statusCode == 500 && $0.id != old.id }
        #expect(
            try catalog.deleteLogs(matching: LogQuery(account: "default", statusCode: 500), batchSize: 3)
                == failed.count)
        let live = records.filter { $0.statusCode != 500 && $0.id != old.id }
        #expect(try helpers.listed(store) == live.map(\.id))

        // Compaction turns the deleted logs into usage records; the listing is unchanged.
        _ = try store.compact()
        #expect(try helpers.listed(store) == live.map(\.id))

        // Reopened: the summaries and costs come back from the catalog.
        try store.close()
        store = try open(directory)
        #expect(try helpers.listed(store) == live.map(\.id))
        let reread = try #require(try store.catalog.logEntry(account: "default", id: live[0].id))
        #expect(reread.cost == live[0].usage.tokensIn.map { $0 * 1_000 })
        try store.close()
    }

    /// A log listed while its segment is being written (the catalog's columns, made from the committed records) reads
    /// the same, field for field, after the segment is sealed (the writer's columns, made as the records were
    /// appended), by listing and by id, rarer fields and usage records among them: the two sets of columns the active
    /// segment has agree, so a log does not change when its segment seals.
    @Test func aLogReadsTheSameBeforeAndAfterItsSegmentSeals() throws {
        let directory = helpers.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = helpers.configuration
        configuration.segments.maxSegmentBytes = 1 << 30
        func open() throws -> LogStore {
            try LogStore(
                directory: directory, configuration: configuration, observer: Pricing(), logger: helpers.logger)
        }
        var records: [LogRecord] = []
        for i in 0..<60 {
            var record = helpers.record(i)
            record.useRarerFields(i)
            records.append(record)
        }
        let logged = records.filter(\.logged)
        func entries(_ store: LogStore) throws -> [LogIndexEntry] { try helpers.listedEntries(store, limit: 7) }
        var store = try open()
        try store.append(records)
        try store.commit()
        let before = try entries(store)
        let seq = try #require(before.first?.location.segment)
        #expect(store.catalog.sealedLogs.segment(seq) == nil)
        #expect(before.map(\.id) == logged.map(\.id))
        for entry in before { #expect(try store.catalog.logEntry(account: "default", id: entry.id) == entry) }

        try store.close()
        store = try open()
        #expect(store.catalog.sealedLogs.segment(seq) != nil)
        let after = try entries(store)
        #expect(after.map(\.id) == before.map(\.id))
        for (sealed, active) in zip(after, before) { #expect(sealed == active) }
        for (entry, record) in zip(after, logged) {
            #expect(entry == LogIndexEntry(record, location: entry.location, price: Pricing().price(of: record)))
            #expect(try store.catalog.logEntry(account: "default", id: record.id) == entry)
        }
        try store.close()
    }

    @Test func aLogByIdReadsTheSameThroughItsIndexAsThroughItsColumns() throws {
        let directory = helpers.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, records) = try populated(directory, count: 40)
        let catalog = store.catalog
        let repriced = records[9]
        try store.afterCommit { _ in
            try RollupStore(catalog: catalog).write { try $0.setLogCost(account: "default", id: repriced.id, cost: 5) }
        }
        _ = try catalog.annotateLog(account: "default", id: records[11].id, LogAnnotation(score: 80), at: 1)
        // Through the block rows, through the whole index (a segment without them), and through the columns.
        func check(_ records: [LogRecord]) throws {
            for record in records {
                let segments = catalog.sealedLogs.segments(holding: record.id)
                for seq in segments { _ = try catalog.sealedLogs.columns(of: seq) }
                let warm = try catalog.logEntry(account: "default", id: record.id)
                for seq in catalog.sealedLogs.summaries.map(\.segment) { catalog.sealedLogs.listing.forget(seq) }
                #expect(
                    segments.allSatisfy {
                        catalog.sealedLogs.blockRows(of: $0) != nil || !catalog.sealedLogs.isSealed($0)
                    })
                let cold = try catalog.logEntry(account: "default", id: record.id)
                #expect(cold == warm)
                #expect(cold?.id == record.id)
                let blocks = segments.map { (seq: $0, rows: catalog.sealedLogs.blockRows(of: $0)) }
                for seq in segments { catalog.sealedLogs.setBlockRows(nil, of: seq) }
                #expect(try catalog.logEntry(account: "default", id: record.id) == warm)
                for block in blocks { catalog.sealedLogs.setBlockRows(block.rows, of: block.seq) }
                #expect(try catalog.logEntry(account: "other", id: record.id) == nil)
            }
        }
        try check(records)
        #expect(try catalog.logEntry(account: "default", id: repriced.id)?.cost == 5)
        #expect(try catalog.logEntry(account: "default", id: records[11].id)?.annotation?.score == 80)
        // Compaction rewrites the blocks that held deleted logs: lookups follow the rewritten files.
        #expect(try catalog.deleteLogs(matching: LogQuery(account: "default", statusCode: 500)) > 0)
        _ = try store.compact()
        try check(records.filter { $0.statusCode != 500 })
        try store.close()
    }

    @Test func repricingASealedLogMovesItsCost() throws {
        let directory = helpers.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, records) = try populated(directory, count: 40)
        let first = records[2]
        let before = try #require(try store.catalog.logEntry(account: "default", id: first.id))
        #expect(store.catalog.sealedLogs.segment(before.location.segment) != nil)
        #expect(before.cost == 2_000)
        let range = (from: records[0].createdAt, to: records[39].createdAt + 1)
        let page = try store.catalog.repriceableLogs(
            account: "default", from: range.from, to: range.to, after: nil, limit: 1000)
        #expect(page.map(\.id) == records.map(\.id))
        #expect(try store.catalog.repriceableLogCount(account: "default", from: range.from, to: range.to) == 40)
        try RollupStore(catalog: store.catalog).write { try $0.setLogCost(account: "default", id: first.id, cost: 77) }
        #expect(try store.catalog.logEntry(account: "default", id: first.id)?.cost == 77)
        let exported = try store.catalog.exportedLogs(
            account: "default", from: range.from, to: range.to, after: nil, limit: 1000)
        #expect(exported.map(\.id) == records.map(\.id))
        #expect(exported.first { $0.id == first.id }?.cost == 77)
        // The export's stream, in small pages: sealed logs and rows interleaved by id, each once.
        var streamed: [LogID] = []
        try store.catalog.forEachExportedLog(account: "default", from: range.from, to: range.to, pageSize: 3) {
            streamed.append($0.id)
        }
        #expect(streamed == records.map(\.id))
        var slice = try store.catalog.exportedLogs(
            account: "default", from: range.from, to: range.to, after: records[5].id, limit: 4)
        #expect(slice.map(\.id) == records[6..<10].map(\.id))
        slice = try store.catalog.exportedLogs(
            account: "default", from: range.from, to: range.to, after: records[36].id, limit: 10)
        #expect(slice.map(\.id) == records[37...].map(\.id))
        try store.close()
        let reopened = try open(directory)
        #expect(try reopened.catalog.logEntry(account: "default", id: first.id)?.cost == 77)
        try reopened.close()
    }

    /// Sealed segments' costs are read from the catalog when a lookup needs them, and only the last few stay in
    /// memory: every log still has its cost, one repriced in a segment whose costs were dropped from memory too,
    /// and after reopening.
    @Test func costsAreReadWhenNeededAndFewStayInMemory() throws {
        let directory = helpers.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, records) = try populated(directory, count: 120)
        let segments = Set(
            try records.map { try #require(try store.catalog.logEntry(account: "default", id: $0.id)).location.segment }
        )
        #expect(segments.filter { store.catalog.sealedLogs.segment($0) != nil }.count > SealedLogs.costSegments + 2)
        func costs(_ catalog: Catalog) throws -> [Int64?] {
            try records.map { try catalog.logEntry(account: "default", id: $0.id)?.cost }
        }
        let expected = records.map { $0.usage.tokensIn.map { $0 * 1_000 } }
        #expect(try costs(store.catalog) == expected)
        #expect(store.catalog.sealedLogs.segmentsWithCostsInMemory <= SealedLogs.costSegments)
        // The first log's segment was read before the last few: its costs are not in memory any more.
        try RollupStore(catalog: store.catalog).write {
            try $0.setLogCost(account: "default", id: records[1].id, cost: 5)
        }
        var repriced = expected
        repriced[1] = 5
        #expect(try costs(store.catalog) == repriced)
        try store.close()
        let reopened = try open(directory)
        #expect(reopened.catalog.sealedLogs.segmentsWithCostsInMemory == 0)
        #expect(try costs(reopened.catalog) == repriced)
        try reopened.close()
    }
}
