import Foundation
import Logging
import Testing
import TollgateModel

@testable import TollgateStorage

/// The segment being written answers for its logs from memory (`ActiveSegmentLogs`): a commit writes no `logs` row,
/// and what a crash, an upgrade, a deletion or a reprice does to them is what it did to rows.
@Suite("Logs of the segment being written")
struct ActiveSegmentLogsTests {
    let helpers = CompactionTests()

    /// One segment for everything: no sealing in these tests unless they close the store.
    var configuration: LogStore.Configuration {
        var c = LogStore.Configuration()
        c.segments.trainsDictionary = false
        return c
    }

    func open(_ directory: String) throws -> LogStore {
        try LogStore(
            directory: directory, configuration: configuration, observer: SealedLogIndexTests.Pricing(),
            logger: helpers.logger)
    }

    func logRows(_ catalog: Catalog) throws -> Int64 {
        try catalog.read { try $0.queryFirst("SELECT count(*) FROM logs") { $0.int64(at: 0) } ?? -1 }
    }

    func stored(_ store: LogStore, _ records: [LogRecord]) throws -> Int64 {
        try store.catalog.storedLogs(account: "default", monthStart: helpers.month(records))
    }

    /// The costs' compact column reads back what was appended and set, nil included, as an `[Int64?]` would.
    @Test func optionalIntegersKeepWhatAnArrayOfOptionalsKeeps() {
        var generator = SystemRandomNumberGenerator()
        var plain: [Int64?] = []
        var compact = OptionalInt64s()
        for _ in 0..<300 {
            let value: Int64? =
                Bool.random(using: &generator) ? nil : Int64.random(in: .min ... .max, using: &generator)
            plain.append(value)
            compact.append(value)
        }
        for _ in 0..<200 {
            let index = Int.random(in: 0..<plain.count, using: &generator)
            let value: Int64? = Bool.random(using: &generator) ? nil : Int64.random(in: -5...5, using: &generator)
            plain[index] = value
            compact[index] = value
        }
        #expect(compact.count == plain.count)
        #expect((0..<plain.count).map { compact[$0] } == plain)
        var nils = OptionalInt64s(nils: 70)
        #expect((0..<70).allSatisfy { nils[$0] == nil })
        nils[69] = 0
        #expect(nils[69] == 0 && nils[68] == nil)
        nils[69] = nil
        #expect(nils == OptionalInt64s(nils: 70))
    }

    /// A sealed segment's stored costs read row by row, in any order (forwards as a page reads them, backwards,
    /// jumps across checkpoints), give what decoding them whole gives; bytes cut short are refused when read.
    @Test func storedCostsReadByRowAsDecodedWhole() throws {
        var generator = SystemRandomNumberGenerator()
        var costs = SegmentCosts(rows: 1_000)
        for row in 0..<1_000 where !Bool.random(using: &generator) {
            costs.cost[row] = Int64.random(in: -1_000_000_000...1_000_000_000_000, using: &generator)
            if row % 7 == 0 { costs.saved[row] = Int64.random(in: 0...5_000, using: &generator) }
        }
        let encoded = EncodedSegmentCosts(costs)
        #expect(encoded.count == 1_000)
        #expect(try EncodedSegmentCosts(encoded.bytes) == encoded)
        #expect(SegmentCosts(encoded: encoded) == costs)
        let orders: [[Int]] = [
            Array(0..<1_000), Array((0..<1_000).reversed()), [999, 0, 64, 63, 65, 500, 128, 127, 1, 998],
            (0..<300).map { _ in Int.random(in: 0..<1_000, using: &generator) },
        ]
        for order in orders {
            var reader = encoded.reader()
            for row in order {
                let read = reader.costs(of: row)
                #expect(read.cost == costs.cost[row] && read.saved == costs.saved[row], "row \(row)")
            }
        }
        #expect(encoded.costs(of: 1_000) == nil)
        #expect(encoded.costs(of: 640)?.cost == costs.cost[640])
        // A cost whose varint never ends, and a row with a cost but no saved amount.
        #expect(throws: (any Error).self) { try EncodedSegmentCosts(encoded.bytes + [0x80]) }
        #expect(throws: (any Error).self) { try EncodedSegmentCosts(encoded.bytes + [0x00]) }
    }

    /// At a seal the active logs' costs go to the sealed rows with the same record offset; usage records (rows with
    /// no log) get none. Matched in one walk when offsets rise, through a table when they do not: the same answer.
    /// A commit's logs added a run at a time, column by column, are what adding them one by one gives: the same
    /// columns, id order and costs, and a log whose id is here already or earlier in the run is skipped.
    @Test func logsAddedTogetherAreLogsAddedOneByOne() {
        var factory = RecordFactory(seed: 8)
        var batch: [Catalog.ActiveLog] = []
        for i in 0..<150 {
            var record = factory.record()
            if i % 3 == 0 { record.model = nil }
            if i % 4 == 0 { record.usage = Usage() }
            if i % 5 == 0 { record.durationMicros = 1 << 40 }
            if i == 40 || i == 90 { record.id = batch[10].record.id }  // appended twice: one log, the first
            batch.append(
                Catalog.ActiveLog(
                    record, location: RecordLocation(segment: 2, offset: UInt64(16 + i * 64), length: 60),
                    price: i % 6 == 0 ? nil : Int64(i) * 1_000))
        }
        var one = ActiveSegmentLogs(segment: 2)
        var added = 0
        for log in batch
        where one.append(log.record, at: log.location, cost: log.charges.cost, saved: log.charges.saved) {
            added += 1
        }
        var together = ActiveSegmentLogs(segment: 2)
        let first = batch.withUnsafeBufferPointer { together.append($0, rows: Array(0..<60)) }
        let second = batch.withUnsafeBufferPointer { together.append($0, rows: Array(60..<150)) }
        #expect(added == 148)
        #expect(first + second == added)
        #expect(together.block == one.block)
        #expect(together.idOrder == one.idOrder)
        #expect(together.costs == one.costs)
        #expect(together.count == one.count)
    }

    /// Varied records: every string column with several values and nil, metadata, usage records among the logs,
    /// and (`repeats`) ids appended twice.
    func variedRecords(_ count: Int, seed: UInt64, repeats: Bool = true) -> [LogRecord] {
        var factory = RecordFactory(seed: seed)
        var records: [LogRecord] = []
        for i in 0..<count {
            var record = factory.record()
            record.gateway = ["default", "support", "search"][i % 3]
            if i % 3 == 0 { record.model = nil }
            if i % 4 == 0 { record.usage = Usage(tokensIn: Int64(i), serviceTier: i % 8 == 0 ? "flex" : nil) }
            if i % 5 == 0 { record.error = "upstream \(i % 2)" }
            if i % 7 == 0 { record.metadata = [MetadataEntry("user", .string("u\(i % 4)"))] }
            if i % 6 == 0 { record.logged = false }  // a usage record: a row of the writer's columns only
            if i % 11 == 0 { record.eventID = "event-\(i)" }
            if repeats, i == 45 || i == 90, records[10].logged { record.id = records[10].id }
            records.append(record)
        }
        return records
    }

    /// The logs of a batch appended to a writer's columns (`ColumnBuilder`) and handed over with its values
    /// (`Catalog.ActiveColumns`) are the logs read from their records, in one run or several, across two writers'
    /// columns, and when a run's values are lost (the catalog then reads that writer's logs from their records).
    @Test func logsTakenFromTheWritersColumnsAreLogsReadFromTheirRecords() {
        let records = variedRecords(400, seed: 11)
        var builder = ColumnBuilder(segment: 3, groupRows: 64)
        var logs: [Catalog.ActiveLog] = []
        var columns = Catalog.ActiveColumns()
        var fromColumns = ActiveSegmentLogs(segment: 3)
        var fromRecords = ActiveSegmentLogs(segment: 3)
        var added = (columns: 0, records: 0)
        func hand() {
            let rows = Array(logs.indices)
            added.columns += logs.withUnsafeBufferPointer { logs in
                columns.runs.indices.reduce(0) { sum, run in
                    sum + fromColumns.append(logs, rows: Array(columns.logs(of: run)), columns: columns, run: run)
                }
            }
            added.records += logs.withUnsafeBufferPointer { fromRecords.append($0, rows: rows) }
            logs.removeAll()
            columns.removeAll()
        }
        for (i, record) in records.enumerated() {
            let location = RecordLocation(segment: 3, offset: UInt64(16 + i * 64), length: 60)
            builder.append(record, at: location)
            guard record.logged else { continue }
            logs.append(Catalog.ActiveLog(record, location: location, price: i % 6 == 1 ? nil : Int64(i) * 1_000))
            withUnsafePointer(to: &builder) { columns.add(lastRowOf: $0) }
            if i == 150 {
                // A new writer's columns of the same segment (as a repair makes), numbering its values afresh.
                builder = ColumnBuilder(segment: 3, groupRows: 64)
                builder.append(records[3], at: RecordLocation(segment: 3, offset: 1, length: 1))
            }
            if [0, 1, 2, 30, 151, 152, 260].contains(i) || i % 50 == 0 { hand() }
            if i == 310 {
                // A run lost with its values: the rest of this writer's logs are read from their records.
                columns.removeLast(logs.count)
                logs.removeAll()
            }
        }
        hand()
        #expect(added.columns == added.records)
        #expect(added.columns > 250)
        #expect(fromColumns.block == fromRecords.block)
        #expect(fromColumns.idOrder == fromRecords.idOrder)
        #expect(fromColumns.costs == fromRecords.costs)
        for field in RecordField.stringColumns {
            // Only values a log has are in the listing's dictionaries: usage records' are not.
            #expect(
                Set(fromColumns.block.strings(field).dictionary) == Set(fromRecords.block.strings(field).dictionary))
        }
    }

    /// Through a store, batches of varied records spanning rotations (a commit's logs in two segments, the
    /// sealed one's columns the writer's and the active one's the catalog's), and a restart in the middle of a
    /// segment, list every log once with every field as its record has it.
    @Test func varietyAcrossRotationsListsAsRecorded() throws {
        let directory = helpers.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = configuration
        configuration.segments.maxSegmentRecords = 45
        func open() throws -> LogStore {
            try LogStore(
                directory: directory, configuration: configuration, observer: SealedLogIndexTests.Pricing(),
                logger: helpers.logger)
        }
        // A repeat in another segment is a log of its own there: left out here.
        let records = variedRecords(240, seed: 5, repeats: false)
        let batches = stride(from: 0, to: records.count, by: 17).map { records[$0..<min($0 + 17, records.count)] }
        do {
            // The process dies mid-segment: the reopened store's writer rebuilds that segment's columns from its
            // records and goes on appending to it.
            let store = try open()
            for batch in batches[..<6] {
                try store.append(Array(batch))
                try store.commit()
            }
        }
        // Every log of the first `count` records listed, with every field as recorded.
        func check(_ store: LogStore, through count: Int) throws {
            var first: [LogID: LogRecord] = [:]
            for record in records[..<count] where record.logged && first[record.id] == nil { first[record.id] = record }
            let listed = try helpers.listedEntries(store, limit: 50)
            #expect(listed.map(\.id) == first.keys.sorted())
            for entry in listed {
                var expected = LogIndexEntry(try #require(first[entry.id]), location: entry.location, price: nil)
                (expected.cost, expected.saved) = (entry.cost, entry.saved)
                #expect(entry == expected)
            }
        }
        let store = try open()
        // The segment the restart cut, still being written: its older logs from its records, the new from the
        // writer's columns rebuilt on open.
        try store.append(Array(batches[6]))
        try store.commit()
        try check(store, through: batches[6].endIndex)
        for batch in batches[7...] {
            try store.append(Array(batch))
            try store.commit()
        }
        try check(store, through: records.count)
        #expect(try Set(helpers.listedEntries(store).map(\.location.segment)).count >= 4)
        try store.close()
    }

    /// A commit's logs are counted in `log_counts` by account and month, runs of both changing within one commit,
    /// and a log whose id came earlier in the commit, or is held already, is skipped: whether the commit's ids rise
    /// (the usual order) or not.
    @Test func aCommitsLogsAreCountedByAccountAndMonthAndRepeatsSkipped() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            _ = try catalog.createAccount(id: "acme", tier: "paid")
            let december = Int64(1_764_547_200_000)  // 2025-12-01T00:00:00Z
            let november = Int64(1_761_955_200_000)  // 2025-11-01T00:00:00Z
            var factory = RecordFactory(seed: 21)
            let ids = LogIDGenerator()
            var offset: UInt64 = 16
            func log(_ account: String, _ at: Int64, id: LogID? = nil) -> Catalog.ActiveLog {
                var record = factory.record()
                record.account = account
                record.createdAt = at
                record.id = id ?? ids.next(millisecondsSinceEpoch: at)
                offset += 64
                return Catalog.ActiveLog(
                    record, location: RecordLocation(segment: 1, offset: offset, length: 60), price: nil)
            }
            // Rising ids: two accounts, across the month's end, and back.
            var rising = [
                log("default", december - 2), log("default", december - 1), log("acme", december - 1),
                log("acme", december), log("default", december), log("default", december + 5),
            ]
            #expect(try catalog.addActiveLogs(rising) == 6)
            // Again, with one new log: only that one is added.
            rising.append(log("acme", december + 9))
            #expect(try catalog.addActiveLogs(rising) == 1)
            // Not rising: an id repeated within the commit counts once; ids out of order count each.
            let late = log("default", december + 20)
            let commit = [late, log("default", december + 15), log("acme", december + 16), late]
            #expect(try catalog.addActiveLogs(commit) == 3)
            #expect(try catalog.storedLogs(account: "default", monthStart: november) == 2)
            #expect(try catalog.storedLogs(account: "default", monthStart: december) == 4)
            #expect(try catalog.storedLogs(account: "acme", monthStart: november) == 1)
            #expect(try catalog.storedLogs(account: "acme", monthStart: december) == 3)
        }
    }

    @Test func costsGoToTheSealedRowsWithTheSameOffset() {
        var factory = RecordFactory(seed: 5)
        func logs(_ offsets: [UInt64]) -> ActiveSegmentLogs {
            var logs = ActiveSegmentLogs(segment: 1)
            for offset in offsets {
                _ = logs.append(
                    factory.record(), at: RecordLocation(segment: 1, offset: offset, length: 10),
                    cost: Int64(offset) * 10, saved: offset == 300 ? 7 : nil)
            }
            return logs
        }
        let sealed: [UInt64] = [50, 100, 200, 300, 400, 500, 600]
        var expected = SegmentCosts(rows: 7)
        expected.cost[1] = 1_000
        expected.cost[3] = 3_000
        expected.saved[3] = 7
        expected.cost[5] = 5_000
        #expect(logs([100, 300, 500]).costs(of: sealed) == expected)
        #expect(logs([500, 100, 300]).costs(of: sealed) == expected)
        #expect(logs([100, 300, 500, 700]).costs(of: sealed) == expected)
        #expect(logs([]).costs(of: sealed) == SegmentCosts(rows: 7))
    }

    @Test func aCommitListsItsLogsWithoutARowAndCountsEachOnce() throws {
        let directory = helpers.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try open(directory)
        let records = (0..<30).map(helpers.record)
        try store.append(Array(records[..<10]))
        try store.commit()
        // The same records again (a retried batch): one log each, counted once.
        try store.append(Array(records[..<10]) + Array(records[10...]))
        try store.commit()
        #expect(try logRows(store.catalog) == 0)
        #expect(try helpers.listed(store) == records.map(\.id))
        #expect(try stored(store, records) == 30)
        let entry = try #require(try store.catalog.logEntry(account: "default", id: records[7].id))
        #expect(entry == LogIndexEntry(records[7], location: entry.location, price: 7_000))
        #expect(try store.record(account: "default", id: records[7].id) == records[7])
        // Filters and cursors over the active segment alone.
        var query = LogQuery(account: "default", model: "gpt-5", limit: 4)
        var listed: [LogID] = []
        while true {
            let page = try store.catalog.listLogs(query)
            listed += page.entries.map(\.id)
            guard let next = page.nextCursor else { break }
            query.cursor = next
        }
        #expect(listed == records.filter { $0.model == "gpt-5" }.reversed().map(\.id))
        try store.close()
    }

    @Test func aCrashAfterTheCommitBringsTheLogsBackCountedOnce() throws {
        let directory = helpers.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let records = (0..<12).map(helpers.record)
        do {
            let store = try open(directory)
            try store.append(Array(records[..<8]))
            try store.commit()
            #expect(try store.catalog.deleteLog(account: "default", id: records[3].id))
            // Durable but never indexed: the process dies between the fsync and the catalog.
            try store.append(Array(records[8...]))
            try store.syncWithoutIndexing()
        }
        let reopened = try open(directory)
        let live = records.filter { $0.id != records[3].id }
        #expect(try helpers.listed(reopened) == live.map(\.id))
        #expect(try stored(reopened, records) == 11)
        // Twice more: nothing changes.
        try reopened.close()
        for _ in 0..<2 {
            let again = try open(directory)
            #expect(try helpers.listed(again) == live.map(\.id))
            #expect(try stored(again, records) == 11)
            try again.close()
        }
    }

    @Test func rowsWrittenBeforeAnUpgradeGiveWayWithoutCountingTwice() throws {
        let directory = helpers.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let records = (0..<10).map(helpers.record)
        do {
            let store = try open(directory)
            try store.append(records)
            try store.syncWithoutIndexing()
            // As an earlier version indexed them: rows for the first seven, counted; no mark.
            let entries = try (0..<7).map { i in
                try #require(try store.lookupRecordEntry(records[i]))
            }
            try store.catalog.insertLogs(entries)
        }
        let reopened = try open(directory)
        #expect(try logRows(reopened.catalog) == 0)
        #expect(try helpers.listed(reopened) == records.map(\.id))
        #expect(try stored(reopened, records) == 10)
        #expect(try reopened.catalog.logEntry(account: "default", id: records[4].id)?.cost == 4_000)
        try reopened.close()
    }

    @Test func repricingAndDeletingAnActiveLogHoldUntilAndAfterItsSegmentSeals() throws {
        let directory = helpers.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var store = try open(directory)
        let records = (0..<9).map(helpers.record)
        try store.append(records)
        try store.commit()
        let repriced = records[5]
        try store.afterCommit { _ in
            try RollupStore(catalog: store.catalog).write {
                try $0.setLogCost(account: "default", id: repriced.id, cost: 77)
            }
        }
        #expect(try store.catalog.logEntry(account: "default", id: repriced.id)?.cost == 77)
        #expect(try store.catalog.deleteLogs(matching: LogQuery(account: "default", statusCode: 500)) == 3)
        let live = records.filter { $0.statusCode != 500 }
        #expect(try helpers.listed(store) == live.map(\.id))
        #expect(try stored(store, records) == 6)
        // Sealed on close: the repriced cost goes with the segment; deleted logs stay deleted.
        try store.close()
        store = try open(directory)
        #expect(store.catalog.sealedLogs.segment(1) != nil)
        #expect(try store.catalog.logEntry(account: "default", id: repriced.id)?.cost == 77)
        #expect(try helpers.listed(store) == live.map(\.id))
        #expect(try stored(store, records) == 6)
        try store.close()
    }

    @Test func anotherProcessesCatalogReadsTheSegmentBeingWritten() throws {
        let directory = helpers.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try open(directory)
        let records = (0..<12).map(helpers.record)
        try store.append(records)
        try store.commit()
        #expect(try store.catalog.deleteLog(account: "default", id: records[4].id))
        // `tollgate export` beside a running gateway: its own catalog, the segment read from disk.
        let reader = try Catalog(dataDirectory: directory, logger: helpers.logger)
        #expect(try reader.listLogs(LogQuery(account: "default")).entries.isEmpty)
        try reader.loadUnsealedLogs(price: SealedLogIndexTests.Pricing().price(of:))
        let live = records.filter { $0.id != records[4].id }
        let range = (from: records[0].createdAt, to: records[11].createdAt + 1)
        let exported = try reader.exportedLogs(
            account: "default", from: range.from, to: range.to, after: nil, limit: 100)
        #expect(exported.map(\.id) == live.map(\.id))
        #expect(exported.first { $0.id == records[7].id }?.cost == 7_000)
        #expect(
            try reader.listLogs(LogQuery(account: "default", order: .ascending, limit: 100)).entries
                == store.catalog.listLogs(LogQuery(account: "default", order: .ascending, limit: 100)).entries)
        try store.close()
    }

    @Test func reopeningAClosedStoreCountsNothingAgain() throws {
        let directory = helpers.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var small = configuration
        small.segments.maxSegmentRecords = 7
        let records = (0..<30).map(helpers.record)
        var store = try LogStore(directory: directory, configuration: small, logger: helpers.logger)
        try store.append(Array(records[..<12]))
        try store.commit()
        try store.append(Array(records[12...]))
        try store.close()
        let counted = try store.catalog.read {
            try $0.query("SELECT segment FROM logs_counted") { $0.int64(at: 0) }
        }
        #expect(counted.isEmpty, "every segment is recorded sealed at close")
        #expect(try store.catalog.segments().allSatisfy { $0.state == .sealed })
        for _ in 0..<2 {
            store = try LogStore(directory: directory, configuration: small, logger: helpers.logger)
            #expect(try stored(store, records) == 30)
            #expect(try helpers.listed(store) == records.map(\.id))
            try store.close()
        }
    }

    @Test func aListingHeldWhileLogsArriveKeepsWhatItSaw() throws {
        let directory = helpers.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try open(directory)
        let records = (0..<20).map(helpers.record)
        try store.append(Array(records[..<10]))
        try store.commit()
        let seq = try #require(store.catalog.sealedLogs.summaries.first?.segment)
        let held = try store.catalog.sealedLogs.columns(of: seq)
        try store.append(Array(records[10...]))
        try store.commit()
        #expect(held.block.count == 10)
        #expect(try store.catalog.sealedLogs.columns(of: seq).block.count == 20)
        #expect(try helpers.listed(store) == records.map(\.id))
        try store.close()
    }
}

extension LogStore {
    /// A stored record's index entry as the store prices it, found by reading the active segment back.
    fileprivate func lookupRecordEntry(_ record: LogRecord) throws -> LogIndexEntry? {
        var found: LogIndexEntry?
        for seq in try reader.segments() {
            try reader.forEachRecord(in: seq) { location, stored in
                if stored.id == record.id {
                    found = LogIndexEntry(stored, location: location, price: observer?.price(of: stored))
                }
            }
        }
        return found
    }
}
