import Foundation
import Logging
import Synchronization
import Testing
import TollgateModel

@testable import TollgateStorage

/// Deleting logs and compacting segments: deleted logs leave the index at once (with their count) and their
/// content leaves the segments at compaction, as usage records; a crash at any compaction step leaves the old or
/// the new segment set, never a lost, doubled or resurrected log.
@Suite struct CompactionTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    let ids = LogIDGenerator()

    func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "tollgate-compaction-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Small segments, so a few dozen records span several sealed ones.
    var configuration: LogStore.Configuration {
        var c = LogStore.Configuration()
        c.segments.maxSegmentBytes = 2_048
        c.segments.trainsDictionary = false
        return c
    }

    func record(_ i: Int) -> LogRecord {
        let id = ids.next()
        return LogRecord(
            id: id, createdAt: id.milliseconds, account: "default", gateway: "default", provider: "openai",
            model: i % 3 == 0 ? "gpt-5" : "gpt-5-mini", path: "/chat/completions?n=\(i)", method: "POST",
            statusCode: i % 4 == 0 ? 500 : 200, success: i % 4 != 0, stream: i % 2 == 0,
            durationMicros: 1000 + Int64(i), ttftMicros: 10, usage: Usage(tokensIn: Int64(i), tokensOut: 2),
            requestSize: 5, responseSize: 6, error: i % 4 == 0 ? "upstream failed \(i)" : nil,
            metadata: [MetadataEntry("user", .string("u\(i)"))],
            requestHeaders: [Header("content-type", "application/json")],
            requestBody: Array("request body \(i)".utf8), responseBody: Array("response body \(i)".utf8))
    }

    func listed(_ store: LogStore) throws -> [LogID] {
        try listedEntries(store).map(\.id)
    }

    /// Every log of account `default`, oldest first, through pages of `limit`.
    func listedEntries(_ store: LogStore, limit: Int = 1000) throws -> [LogIndexEntry] {
        var all: [LogIndexEntry] = []
        var query = LogQuery(account: "default", order: .ascending, limit: limit)
        for _ in 0..<100 {
            let page = try store.catalog.listLogs(query)
            all += page.entries
            guard let next = page.nextCursor else { break }
            query.cursor = next
        }
        return all
    }

    /// Every record in the segment files and the usage archives, by id (a duplicate id would be a bug: collected as
    /// a list).
    func stored(_ directory: String) throws -> [LogID: [LogRecord]] {
        let reader = SegmentReader(directory: directory)
        var found: [LogID: [LogRecord]] = [:]
        for seq in try reader.segments() {
            try reader.forEachRecord(in: seq) { _, record in found[record.id, default: []].append(record) }
        }
        for seq in try UsageArchive.segments(in: directory) {
            for entry in try UsageArchive.read(segment: seq, directory: directory) {
                found[entry.record.id, default: []].append(entry.record)
            }
        }
        return found
    }

    func month(_ records: [LogRecord]) -> Int64 { UTCMonth.start(of: records[0].createdAt) }

    /// 60 records over several sealed segments and an active one; the records with a 500 status are deleted.
    func populated(_ directory: String) throws -> (store: LogStore, records: [LogRecord], deleted: Set<LogID>) {
        let store = try LogStore(directory: directory, configuration: configuration, logger: logger)
        let records = (0..<60).map(record)
        try store.append(records)
        try store.commit()
        let deletedCount = try store.catalog.deleteLogs(
            matching: LogQuery(account: "default", statusCode: 500), batchSize: 4)
        let deleted = Set(records.filter { $0.statusCode == 500 }.map(\.id))
        #expect(deletedCount == deleted.count)
        return (store, records, deleted)
    }

    @Test func deletedLogsLeaveTheIndexAtOnceAndTheirContentAtCompaction() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, records, deleted) = try populated(directory)
        let live = records.filter { !deleted.contains($0.id) }
        #expect(try listed(store) == live.map(\.id))
        #expect(try store.catalog.storedLogs(account: "default", monthStart: month(records)) == Int64(live.count))
        #expect(try store.lookup(account: "default", id: records[0].id) == nil)
        // Before compaction the content is still on disk.
        #expect(try stored(directory)[records[0].id]?.first?.logged == true)

        let replayedBefore = try replayed(store)
        let report = try store.compact()
        #expect(report.segments > 0)
        // The active segment's deleted logs wait for it to be sealed.
        let tail = try store.tailRecordCount()
        #expect(report.purged > 0 && report.purged <= deleted.count)
        let onDisk = try stored(directory)
        #expect(onDisk.count == records.count && onDisk.values.allSatisfy { $0.count == 1 })
        var contentLeft = 0
        for id in deleted {
            let r = try #require(onDisk[id]?.first)
            if r.logged {
                contentLeft += 1
            } else {
                #expect(r.path.isEmpty && r.requestBody.isEmpty && r.error == nil && r.metadata.isEmpty)
                #expect(r.requestHeaders.isEmpty && !r.payloadStored)
            }
        }
        #expect(contentLeft == deleted.count - report.purged && contentLeft <= tail)
        for record in live { #expect(try store.record(account: "default", id: record.id) == record) }
        #expect(try listed(store) == live.map(\.id))
        // Usage is unchanged: a replay sees every request, with the same usage.
        #expect(try replayed(store) == replayedBefore)
        try store.close()

        // Closing sealed the last segment; the next pass purges the rest.
        let reopened = try LogStore(directory: directory, configuration: configuration, logger: logger)
        try reopened.compact()
        #expect(try stored(directory).filter { deleted.contains($0.key) }.allSatisfy { !$0.value[0].logged })
        #expect(try reopened.catalog.tombstonedSegments().isEmpty)
        #expect(try replayed(reopened) == replayedBefore)
        try reopened.close()
    }

    @Test func segmentsOfEveryVersionCompactAndReadBack() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // Version 1, 2, 3 and 4 segments from before four upgrades (each sealed by the clean close), then ones of
        // the current version (5: payload parts in the blocks, sealed with a grouped index and columns in row
        // groups). Each keeps its version, its index frame's type and its columns frame's form.
        var records: [LogRecord] = []
        for version: UInt8 in [1, 2, 3, 4] {
            var old = configuration
            old.segments.formatVersion = version
            let before = try LogStore(directory: directory, configuration: old, logger: logger)
            let batch = (records.count..<(records.count + 30)).map(record)
            try before.append(batch)
            try before.close()
            records += batch
        }
        let store = try LogStore(directory: directory, configuration: configuration, logger: logger)
        let current = (120..<150).map(record)
        try store.append(current)
        try store.commit()
        records += current
        let reader = SegmentReader(directory: directory)
        let versions = try reader.segments().map { try reader.version(of: $0) }
        #expect(Set(versions) == [1, 2, 3, 4, SegmentFormat.version])
        _ = try store.catalog.deleteLogs(matching: LogQuery(account: "default", statusCode: 500), batchSize: 4)
        let deleted = Set(records.filter { $0.statusCode == 500 }.map(\.id))
        let replayedBefore = try replayed(store)
        try store.close()  // seals the active segment, so every deleted log can be purged

        let reopened = try LogStore(directory: directory, configuration: configuration, logger: logger)
        let report = try reopened.compact()
        #expect(report.purged == deleted.count)
        let live = records.filter { !deleted.contains($0.id) }
        for record in live { #expect(try reopened.record(account: "default", id: record.id) == record) }
        #expect(try listed(reopened) == live.map(\.id))
        let onDisk = try stored(directory)
        #expect(onDisk.count == records.count && onDisk.values.allSatisfy { $0.count == 1 })
        #expect(deleted.allSatisfy { onDisk[$0]?.first?.logged == false })
        #expect(try replayed(reopened) == replayedBefore)
        let after = SegmentReader(directory: directory)
        var indexTypes: [UInt8: Set<UInt8>] = [:]
        var columnsCompressedWhole: [UInt8: Set<Bool>] = [:]
        for segment in try after.segments() {
            guard let footer = try after.footer(of: segment) else { continue }
            try after.verify(segment: segment)
            let version = try after.version(of: segment)
            let type = try after.file(segment).read(count: 1, at: footer.indexOffset)[0]
            indexTypes[version, default: []].insert(type)
            let flags = try after.file(segment).read(count: 2, at: footer.columnsOffset)[1]
            columnsCompressedWhole[version, default: []].insert(flags & SegmentFormat.flagCompressed != 0)
        }
        #expect(indexTypes[1] == [FrameType.index.rawValue] && indexTypes[2] == [FrameType.index.rawValue])
        for version: UInt8 in [3, 4, 5] { #expect(indexTypes[version] == [FrameType.groupedIndex.rawValue]) }
        for version: UInt8 in [1, 2, 3, 4] { #expect(columnsCompressedWhole[version] == [true]) }
        #expect(columnsCompressedWhole[5] == [false])
        try reopened.close()
    }

    @Test func deletingOneLogByIdDecrementsTheMonthsCount() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try LogStore(directory: directory, configuration: configuration, logger: logger)
        let records = (0..<5).map(record)
        try store.append(records)
        try store.commit()
        #expect(try store.catalog.storedLogs(account: "default", monthStart: month(records)) == 5)
        #expect(try store.catalog.deleteLog(account: "default", id: records[1].id))
        #expect(try !store.catalog.deleteLog(account: "default", id: records[1].id))
        #expect(try !store.catalog.deleteLog(account: "other", id: records[2].id))
        #expect(try store.catalog.storedLogs(account: "default", monthStart: month(records)) == 4)
        #expect(try listed(store) == records.filter { $0.id != records[1].id }.map(\.id))
        // Filters combine; from/to bound the id time.
        let deleted = try store.catalog.deleteLogs(
            matching: LogQuery(account: "default", model: "gpt-5-mini", from: records[2].createdAt))
        #expect(deleted == records.dropFirst(2).filter { $0.model == "gpt-5-mini" }.count)
        #expect(
            try store.catalog.storedLogs(account: "default", monthStart: month(records)) == Int64(4 - deleted))
        try store.close()
    }

    @Test func aDeletedLogInTheUnsealedTailStaysDeletedAfterACrash() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var big = LogStore.Configuration()
        big.segments.trainsDictionary = false
        let records = (0..<6).map(record)
        do {
            let store = try LogStore(directory: directory, configuration: big, logger: logger)
            try store.append(records)
            try store.commit()
            #expect(try store.catalog.deleteLog(account: "default", id: records[2].id))
            // Dropped without close: the tail is scanned and re-indexed on open.
        }
        let reopened = try LogStore(directory: directory, configuration: big, logger: logger)
        #expect(reopened.statistics.recordsRecovered == 5)
        #expect(try listed(reopened) == records.filter { $0.id != records[2].id }.map(\.id))
        #expect(try reopened.catalog.storedLogs(account: "default", monthStart: month(records)) == 5)
        try reopened.close()
    }

    /// Stops the compaction after each step (as `kill -9` there would), reopens the store, and checks the segment
    /// set is the old or the new one: every live log listed once and readable, no deleted log listed, and once a
    /// compaction completes, no deleted log's content in any segment.
    @Test(arguments: CompactionStep.allCases)
    func aCrashAtAnyCompactionStepLosesNothingAndResurrectsNothing(step: CompactionStep) throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var records: [LogRecord] = []
        var deleted: Set<LogID> = []
        var replayedBefore: [LogID: Int64] = [:]
        do {
            let populated = try populated(directory)
            records = populated.records
            deleted = populated.deleted
            replayedBefore = try replayed(populated.store)
            #expect(throws: CompactionInterrupted.self) {
                try populated.store.compact(
                    account: nil, progress: { _, _ in }, shouldStop: { false }, stopAfter: step)
            }
            // Dropped without closing: the process died here.
        }
        let live = records.filter { !deleted.contains($0.id) }
        let reopened = try LogStore(directory: directory, configuration: configuration, logger: logger)
        let segmentFiles = try SegmentDirectory.list(directory + "/segments")
        #expect(!segmentFiles.contains { $0.hasSuffix(".compact") })
        #expect(try reopened.catalog.pendingCompactions().isEmpty)
        func check(_ store: LogStore) throws {
            #expect(try listed(store) == live.map(\.id))
            for record in live { #expect(try store.record(account: "default", id: record.id) == record) }
            for id in deleted { #expect(try store.lookup(account: "default", id: id) == nil) }
            #expect(try store.catalog.storedLogs(account: "default", monthStart: month(records)) == Int64(live.count))
            let onDisk = try stored(directory)
            #expect(onDisk.count == records.count && onDisk.values.allSatisfy { $0.count == 1 })
            #expect(try replayed(store) == replayedBefore)
        }
        try check(reopened)
        // The first segment was rewritten from `committed` on, and not before.
        let firstDeleted = try #require(records.first { deleted.contains($0.id) })
        let firstOnDisk = try #require(try stored(directory)[firstDeleted.id]?.first)
        #expect(firstOnDisk.logged == (step < .committed))
        try reopened.close()
        // A complete pass afterwards (the tail is sealed now) removes every deleted log's content.
        let again = try LogStore(directory: directory, configuration: configuration, logger: logger)
        try again.compact()
        try check(again)
        #expect(try stored(directory).filter { deleted.contains($0.key) }.allSatisfy { !$0.value[0].logged })
        #expect(try again.catalog.tombstonedSegments().isEmpty)
        try again.close()
    }

    /// What a replay (rollup rebuild) sees: every stored request's id and input tokens.
    func replayed(_ store: LogStore) throws -> [LogID: Int64] {
        var seen: [LogID: Int64] = [:]
        try store.replay(after: nil) { entry in
            #expect(seen[entry.id] == nil)
            seen[entry.id] = entry.usage.tokensIn ?? -1
        }
        return seen
    }
}

/// An observer whose replay position (the rollups' checkpoint) is fixed by the test.
final class FixedPositionObserver: LogStoreObserver, @unchecked Sendable {
    var position: RecordLocation?
    func price(of record: LogRecord) -> Int64? { nil }
    func appended(_ record: UnsafePointer<LogRecord>, price: Int64?) {}
    func discarded(_ entries: [LogIndexEntry]) {}
    func committed(through last: RecordLocation?) throws {}
    func replayPosition() throws -> RecordLocation? { position }
}

extension CompactionTests {
    /// A segment is compacted only before the checkpoint, or when the checkpoint is at its last record: then a
    /// replay after the checkpoint skips all of it whatever its new offsets.
    @Test func theCheckpointsSegmentIsCompactedOnlyWhenTheCheckpointIsAtItsEnd() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let observer = FixedPositionObserver()
        let store = try LogStore(
            directory: directory, configuration: configuration, observer: observer, logger: logger)
        let records = (0..<60).map(record)
        try store.append(records)
        try store.commit()
        #expect(try store.catalog.deleteLogs(matching: LogQuery(account: "default")) == 60)
        let first = try store.reader.columns(of: 1)
        // Checkpoint inside segment 1: nothing to do yet.
        observer.position = first.location(row: 0)
        var report = try store.compact()
        #expect(report.segments == 0 && report.dropped == 0 && report.deferred > 0)
        // Checkpoint at segment 1's last record: segment 1 only (all its logs deleted: dropped).
        observer.position = first.location(row: first.count - 1)
        report = try store.compact()
        #expect(report.segments == 0 && report.dropped == 1 && report.purged == first.count)
        try store.close()
    }
}

extension CompactionTests {
    /// Reads of live logs keep working while their segments are rewritten and replaced under them.
    @Test func liveLogsStayReadableWhileTheirSegmentsAreCompacted() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, records, deleted) = try populated(directory)
        let live = records.filter { !deleted.contains($0.id) }
        let done = Atomic(false)
        let failures = Mutex<[String]>([])
        let reads = Atomic(0)
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            for _ in 0..<20_000 {
                for record in live {
                    do {
                        if try store.record(account: "default", id: record.id) != record {
                            failures.withLock { $0.append("\(record.id) read back different") }
                        }
                    } catch {
                        failures.withLock { $0.append("\(record.id): \(error)") }
                    }
                    reads.add(1, ordering: .relaxed)
                }
                if done.load(ordering: .relaxed) { return }
            }
        }
        let report = try store.compact()
        done.store(true, ordering: .relaxed)
        group.wait()
        #expect(report.segments > 0)
        #expect(reads.load(ordering: .relaxed) > 0)
        #expect(failures.withLock { $0 }.isEmpty)
        try store.close()
    }
}

extension CompactionTests {
    /// 60 records over several sealed segments; every log of the first 30 is deleted (whole segments), and the
    /// 500s after them (segments that keep live logs).
    func populatedForDrops(_ directory: String) throws -> (
        store: LogStore, records: [LogRecord], deleted: Set<LogID>, droppable: Set<UInt32>
    ) {
        let store = try LogStore(directory: directory, configuration: configuration, logger: logger)
        let records = (0..<60).map(record)
        try store.append(records)
        try store.commit()
        let deleted = Set(
            records.enumerated().filter { $0.offset < 30 || $0.element.statusCode == 500 }.map(\.element.id))
        for record in records.prefix(30) { #expect(try store.catalog.deleteLog(account: "default", id: record.id)) }
        _ = try store.catalog.deleteLogs(matching: LogQuery(account: "default", statusCode: 500))
        #expect(try listed(store).count == records.count - deleted.count)
        // Sealed segments whose records are all deleted.
        let active = try store.catalog.segments().filter { $0.state == .active }.map(\.seq)
        var droppable: Set<UInt32> = []
        for seq in try store.reader.segments() where !active.contains(seq) {
            if try store.reader.columns(of: seq).ids.allSatisfy(deleted.contains) { droppable.insert(seq) }
        }
        #expect(droppable.count >= 2)
        return (store, records, deleted, droppable)
    }

    @Test func aSegmentWhoseLogsAreAllDeletedIsDroppedWholeAndItsUsageKept() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (store, records, deleted, droppable) = try populatedForDrops(directory)
        let live = records.filter { !deleted.contains($0.id) }
        let replayedBefore = try replayed(store)
        let sizes = try droppable.map { try store.reader.file($0).size() }.reduce(0, +)

        let report = try store.compact()
        #expect(report.dropped == droppable.count)
        #expect(report.segments > 0)  // the later segments keep live logs: rewritten
        // The dropped segments' files are gone, their rows too; their usage records are in archives.
        let files = Set(try store.reader.segments())
        #expect(files.isDisjoint(with: droppable))
        #expect(Set(try UsageArchive.segments(in: directory)) == droppable)
        #expect(Set(try store.catalog.segments().map(\.seq)).isDisjoint(with: droppable))
        let archived = try droppable.map { try UsageArchive.read(segment: $0, directory: directory) }.joined()
        #expect(archived.allSatisfy { !$0.record.logged && $0.record.path.isEmpty && $0.record.requestBody.isEmpty })
        let archiveBytes = try droppable.map {
            try SegmentFile.openForReading(UsageArchive.path(directory, $0)).size()
        }.reduce(0, +)
        #expect(archiveBytes < sizes / 2)
        // Nothing lost, nothing doubled: every request once, live logs intact, usage as before.
        let onDisk = try stored(directory)
        #expect(onDisk.count == records.count && onDisk.values.allSatisfy { $0.count == 1 })
        #expect(try listed(store) == live.map(\.id))
        for record in live { #expect(try store.record(account: "default", id: record.id) == record) }
        #expect(try replayed(store) == replayedBefore)
        #expect(try store.storedRecordCount() == records.count)
        // A replay after a position inside a dropped segment gives what it gave with the segment there.
        let inside = try #require(archived.first { $0.location.segment == droppable.min() }).location
        var after: [LogID] = []
        try store.replay(after: inside) { after.append($0.id) }
        #expect(after.count == records.count - 1 && after.first == records[1].id)
        try store.close()

        // Reopened: the same; a second pass has nothing to do.
        let reopened = try LogStore(directory: directory, configuration: configuration, logger: logger)
        #expect(try replayed(reopened) == replayedBefore)
        #expect(try listed(reopened) == live.map(\.id))
        let again = try reopened.compact()
        #expect(again.dropped == 0)
        #expect(try UsageArchive.segments(in: directory).count == droppable.count)
        try reopened.close()
    }

    /// Stops a compaction that drops segments after each step, reopens, and checks the dropped segment is either
    /// still a segment file (before `committed`) or only its usage archive (from `committed` on): never both, never
    /// neither, and every request replayed exactly once.
    @Test(arguments: CompactionStep.allCases)
    func aCrashAtAnyStepOfADropLosesNothingAndDoublesNothing(step: CompactionStep) throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var records: [LogRecord] = []
        var deleted: Set<LogID> = []
        var droppable: Set<UInt32> = []
        var replayedBefore: [LogID: Int64] = [:]
        do {
            let populated = try populatedForDrops(directory)
            (records, deleted, droppable) = (populated.records, populated.deleted, populated.droppable)
            replayedBefore = try replayed(populated.store)
            #expect(throws: CompactionInterrupted.self) {
                try populated.store.compact(
                    account: nil, progress: { _, _ in }, shouldStop: { false }, stopAfter: step)
            }
        }
        let first = try #require(droppable.min())
        let live = records.filter { !deleted.contains($0.id) }
        let reopened = try LogStore(directory: directory, configuration: configuration, logger: logger)
        #expect(try reopened.catalog.pendingCompactions().isEmpty)
        #expect(!FileManager.default.fileExists(atPath: UsageArchive.path(directory, first) + ".new"))
        let segmentThere = try reopened.reader.segments().contains(first)
        let archiveThere = try UsageArchive.segments(in: directory).contains(first)
        #expect(segmentThere == (step < .committed))
        #expect(archiveThere == (step >= .committed))
        #expect(try reopened.catalog.segments().contains { $0.seq == first } == (step < .committed))
        func check(_ store: LogStore) throws {
            #expect(try listed(store) == live.map(\.id))
            for record in live { #expect(try store.record(account: "default", id: record.id) == record) }
            let onDisk = try stored(directory)
            #expect(onDisk.count == records.count && onDisk.values.allSatisfy { $0.count == 1 })
            #expect(try replayed(store) == replayedBefore)
        }
        try check(reopened)
        try reopened.close()
        // A complete pass afterwards drops every droppable segment.
        let again = try LogStore(directory: directory, configuration: configuration, logger: logger)
        try again.compact()
        try check(again)
        #expect(Set(try UsageArchive.segments(in: directory)) == droppable)
        #expect(try again.catalog.tombstonedSegments().isEmpty)
        try again.close()
    }
}

extension CompactionTests {
    /// A usage archive reads back exactly what was written, and any damaged byte is an error, never a silently
    /// different bill.
    @Test func aUsageArchiveRoundTripsAndRefusesDamage() throws {
        let entries = (0..<200).map { i in
            UsageArchive.Entry(
                location: RecordLocation(segment: 7, offset: UInt64(16 + i * 90), length: 90),
                record: record(i).usageRecord)
        }
        var builder = UsageArchive.Builder(segment: 7)
        for entry in entries { builder.append(entry.record, at: entry.location) }
        let bytes = try builder.encoded()
        #expect(try UsageArchive.decode(bytes, segment: 7) == entries)
        #expect(throws: SegmentError.self) { try UsageArchive.decode(bytes, segment: 8) }
        for position in [5, 13, 30, 38, 45, bytes.count / 2, bytes.count - 1] {
            var damaged = bytes
            damaged[position] ^= 0x40
            #expect(throws: SegmentError.self, "byte \(position)") {
                try UsageArchive.decode(damaged, segment: 7)
            }
        }
        #expect(throws: SegmentError.self) { try UsageArchive.decode(Array(bytes.dropLast()), segment: 7) }
    }

    /// An archive whose header checksums verify but whose entry count its entries cannot hold is refused as
    /// corrupt, without first reserving room for that many entries (4 billion, hundreds of gigabytes). Found by
    /// scripts/fuzz-usage-archives.sh.
    @Test func aUsageArchiveCountingMoreEntriesThanItHoldsIsCorrupt() throws {
        var builder = UsageArchive.Builder(segment: 7)
        for i in 0..<3 {
            builder.append(
                record(i).usageRecord, at: RecordLocation(segment: 7, offset: UInt64(16 + i * 90), length: 90))
        }
        let bytes = try builder.encoded()
        for count in [UInt32.max, 0x4155_4754, 4] {
            var counted = bytes
            withUnsafeBytes(of: count.littleEndian) { counted.replaceSubrange(12..<16, with: $0) }
            let crc = counted.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<36])) }
            withUnsafeBytes(of: crc.littleEndian) { counted.replaceSubrange(36..<40, with: $0) }
            #expect(throws: SegmentError.self, "\(count) entries") { try UsageArchive.decode(counted, segment: 7) }
        }
        #expect(throws: SegmentError.self) {
            try UsageArchive.decodeEntries([1, 2, 3], count: Int(UInt32.max), segment: 7)
        }
        #expect(try UsageArchive.decodeEntries([], count: 0, segment: 7).isEmpty)
    }
}

extension CompactionTests {
    /// Compaction reads segments in chunks: frames cut by a chunk's end, and frames larger than a chunk, come out
    /// whole and in order; a damaged byte is an error.
    @Test func framesAreReadInChunksWholeAndInOrder() throws {
        let directory = temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var c = configuration
        c.segments.maxSegmentBytes = 64 << 10
        c.segments.formatVersion = 1  // a frame per record: record locations are frame locations
        let store = try LogStore(directory: directory, configuration: c, logger: logger)
        var records = (0..<40).map(record)
        for i in stride(from: 0, to: records.count, by: 7) {
            records[i].responseBody = (0..<3_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
        }
        try store.append(records)
        try store.close()
        let reader = SegmentReader(directory: directory)
        let seq = try #require(try reader.segments().first)
        let footer = try #require(try reader.footer(of: seq))
        var expected: [RecordLocation] = []
        try reader.forEachRecord(in: seq) { location, _ in expected.append(location) }
        #expect(expected.count == records.count)
        let file = try reader.file(seq)
        for chunk in [1, 16, 100, 1_000, 1 << 20] {
            var seen: [RecordLocation] = []
            try FrameScanner.forEachFrame(
                in: file, from: UInt64(SegmentFormat.fileHeaderSize), to: footer.indexOffset, chunkBytes: chunk
            ) { offset, header, frame, _ in
                #expect(header.frameLength == frame.count)
                seen.append(RecordLocation(segment: seq, offset: offset, length: UInt32(frame.count)))
            }
            #expect(seen == expected, "chunk \(chunk)")
        }
        // One flipped byte inside the third record's payload.
        let path = directory + "/segments/" + SegmentFormat.fileName(seq)
        var bytes = try SegmentDirectory.readWhole(path)
        bytes[Int(expected[2].offset) + SegmentFormat.frameHeaderSize + 1] ^= 0x20
        try SegmentDirectory.remove(path)
        let damaged = try SegmentFile.create(path)
        try damaged.write(bytes, at: 0)
        for chunk in [16, 1 << 20] {
            #expect(throws: SegmentError.self) {
                try FrameScanner.forEachFrame(
                    in: damaged, from: UInt64(SegmentFormat.fileHeaderSize), to: footer.indexOffset, chunkBytes: chunk
                ) { _, _, _, _ in }
            }
        }
    }
}
