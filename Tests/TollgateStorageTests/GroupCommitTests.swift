import Dispatch
import Foundation
import Glibc
import Testing
import TollgateModel

@testable import TollgateStorage

/// The group commit in three steps (`beginCommit`, the fsync on another thread, `finishCommit`): records appended
/// while a commit's fsync runs wait for the next commit, what a commit covered is indexed when it finishes, and a
/// failed fsync loses what it covered and what came after, as a failed commit always did.
@Suite("Group commit with appends during its fsync")
struct GroupCommitTests {
    /// Records and listings as the fault tests make them.
    let samples = StoreFaultTests()
    func record(_ i: Int) -> LogRecord { samples.record(i) }
    func listed(_ store: LogStore) throws -> [LogID] { try samples.listed(store) }

    /// Tells what commits began and what they covered.
    final class CommitLog: LogStoreObserver, @unchecked Sendable {
        var appended = 0
        var began: [Int] = []
        var committed: [RecordLocation?] = []
        func price(of record: LogRecord) -> Int64? { nil }
        func appended(_ record: UnsafePointer<LogRecord>, price: Int64?) { appended += 1 }
        func discarded(_ entries: [LogIndexEntry]) { appended -= entries.count }
        func commitBegan() { began.append(appended) }
        func committed(through last: RecordLocation?) throws { committed.append(last) }
    }

    @Test func recordsAppendedWhileTheFsyncRunsWaitForTheNextCommit() throws {
        let fixture = StoreFaultTests.Fixture()
        defer { fixture.directory.remove() }
        let observer = CommitLog()
        let store = try fixture.open(observer: observer)
        let covered = (0..<10).map(record)
        try store.append(covered)
        let sync = try #require(try store.beginCommit())
        let later = (10..<15).map(record)
        try store.append(later)
        #expect(observer.began == [10])
        #expect(try listed(store).isEmpty)

        sync.run()
        try store.finishCommit(sync)
        // The commit covered the records appended before it began, and the observer's checkpoint is the newest of them.
        #expect(try listed(store) == covered.map(\.id))
        #expect(store.statistics.recordsCommitted == 10)
        let last = try #require(try store.lookup(account: "default", id: covered[9].id)).entry.location
        #expect(observer.committed == [last])
        // Finishing it again does nothing.
        try store.finishCommit(sync)
        #expect(observer.committed.count == 1)

        try store.commit()
        #expect(try listed(store) == (covered + later).map(\.id))
        #expect(store.statistics.recordsCommitted == 15)
        for r in covered + later { #expect(try store.record(account: "default", id: r.id) == r) }
        #expect(try store.indexDisagreements() == [])
        try store.close()
    }

    @Test func aSegmentRotatedDuringTheFsyncIsMarkedSealedOnceItsLogsAreIndexed() throws {
        let fixture = StoreFaultTests.Fixture { $0.segments.maxSegmentRecords = 8 }
        defer { fixture.directory.remove() }
        let store = try fixture.open()
        let covered = (0..<5).map(record)
        try store.append(covered)
        let sync = try #require(try store.beginCommit())
        // The fsync runs on another thread, a little later, while the next batch seals the segment.
        let ran = DispatchSemaphore(value: 0)
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(50)) {
            sync.run()
            ran.signal()
        }
        let later = (5..<12).map(record)
        try store.append(later)
        ran.wait()
        #expect(store.writeStatus.isReady)
        #expect(try store.tailRecordCount() == 4)

        try store.finishCommit(sync)
        #expect(try listed(store) == covered.map(\.id))
        // Its seal waits for the next commit's fsync, and three of its logs are not indexed yet: it is not marked
        // sealed.
        #expect(try store.catalog.segments().first { $0.seq == 1 }?.state == .active)

        try store.commit()
        #expect(try listed(store) == (covered + later).map(\.id))
        #expect(try store.catalog.segments().first { $0.seq == 1 }?.state == .sealed)
        #expect(try store.indexDisagreements() == [])
        try store.close()

        let reopened = try fixture.open()
        #expect(reopened.statistics.recordsRecovered == 0)
        #expect(try listed(reopened) == (covered + later).map(\.id))
        try reopened.close()
    }

    @Test func aFailedFsyncLosesWhatItCoveredAndWhatCameAfterAndTheStoreGoesOn() throws {
        let fixture = StoreFaultTests.Fixture()
        defer { fixture.directory.remove() }
        let faults = fixture.faults
        let observer = CommitLog()
        let store = try fixture.open(observer: observer)
        let stored = (0..<6).map(record)
        try store.append(stored)
        try store.commit()

        faults.fail(.segmentSync, errno: EIO, times: 1)
        try store.append((6..<10).map(record))
        let sync = try #require(try store.beginCommit())
        try store.append((10..<13).map(record))
        sync.run()
        #expect(throws: SegmentError.self) { try store.finishCommit(sync) }
        // The covered records and the later ones were not durable: all are lost, counted, and taken back.
        var status = store.writeStatus
        #expect(!status.isReady)
        #expect(status.health.failure?.operation == .sync)
        #expect(status.statistics.recordsFailed == 7)
        #expect(status.statistics.recordsDiscarded == 7)
        #expect(observer.appended == 6)
        #expect(observer.committed.count == 1)
        #expect(try listed(store) == stored.map(\.id))

        let next = (13..<16).map(record)
        try store.append(next)
        try store.commit()
        status = store.writeStatus
        #expect(status.isReady)
        #expect(observer.appended == 9)
        #expect(try listed(store) == (stored + next).map(\.id))
        for r in stored + next { #expect(try store.record(account: "default", id: r.id) == r) }
        #expect(try store.indexDisagreements() == [])
        try store.close()
    }

    @Test func aFailedAppendDuringTheFsyncKeepsWhatTheFsyncMadeDurable() throws {
        // A block and a buffer write per record, so the append after the commit began writes.
        let fixture = StoreFaultTests.Fixture {
            $0.segments.blockRecords = 1
            $0.segments.writeBufferBytes = 1
        }
        defer { fixture.directory.remove() }
        let faults = fixture.faults
        let observer = CommitLog()
        let store = try fixture.open(observer: observer)
        let covered = (0..<5).map(record)
        try store.append(covered)
        let sync = try #require(try store.beginCommit())
        sync.run()
        faults.fail(.segmentWrite, errno: ENOSPC, times: 1)
        #expect(throws: SegmentError.self) { try store.append((5..<8).map(record)) }
        // The append's failure cut the segment back to where the fsync left it: the covered records stay.
        try store.finishCommit(sync)
        #expect(try listed(store) == covered.map(\.id))
        #expect(observer.appended == 5)
        #expect(observer.committed.count == 1)
        #expect(store.statistics.recordsFailed == 3)

        let next = (8..<10).map(record)
        try store.append(next)
        try store.commit()
        #expect(store.writeStatus.isReady)
        #expect(try listed(store) == (covered + next).map(\.id))
        #expect(try store.indexDisagreements() == [])
        try store.close()
        let reopened = try fixture.open()
        #expect(try listed(reopened) == (covered + next).map(\.id))
        try reopened.close()
    }

    /// A store whose segments hold eight records, with five committed in segment 1.
    func openWithFiveCommitted(
        _ fixture: StoreFaultTests.Fixture, observer: (any LogStoreObserver)? = nil
    ) throws -> (LogStore, [LogRecord]) {
        let store = try fixture.open(observer: observer)
        let first = (0..<5).map(record)
        try store.append(first)
        try store.commit()
        return (store, first)
    }

    @Test func aRotationTakesTheNextSegmentMadeAheadAndAnOpenStartsOnOne() throws {
        let fixture = StoreFaultTests.Fixture { $0.segments.maxSegmentRecords = 8 }
        defer { fixture.directory.remove() }
        let (store, first) = try openWithFiveCommitted(fixture)
        store.prepareNextSegment()
        #expect(FileManager.default.fileExists(atPath: fixture.directory.segmentPath(2)))
        let second = (5..<12).map(record)
        try store.append(second)
        try store.commit()
        #expect(try store.tailRecordCount() == 4)
        #expect(try store.catalog.segments().first { $0.seq == 1 }?.state == .sealed)
        // Made ahead again, then a clean stop: the next open starts on it, with nothing to scan.
        store.prepareNextSegment()
        try store.close()
        #expect(FileManager.default.fileExists(atPath: fixture.directory.segmentPath(3)))

        let reopened = try fixture.open()
        #expect(reopened.statistics.recordsScanned == 0)
        let third = (12..<14).map(record)
        try reopened.append(third)
        try reopened.commit()
        #expect(try listed(reopened) == (first + second + third).map(\.id))
        #expect(try reopened.lookup(account: "default", id: third[0].id)?.entry.location.segment == 3)
        #expect(try reopened.indexDisagreements() == [])
        try reopened.close()
    }

    @Test func aCrashWithTheNextSegmentMadeAheadKeepsEveryCommittedRecord() throws {
        let fixture = StoreFaultTests.Fixture()
        defer { fixture.directory.remove() }
        let committed = (0..<6).map(record)
        do {
            let store = try fixture.open()
            try store.append(committed)
            try store.commit()
            store.prepareNextSegment()
            // Dropped without closing: a crash.
        }
        let reopened = try fixture.open()
        #expect(reopened.statistics.recordsRecovered == 6)
        // The segment that was active is sealed by recovery; the one made ahead is the active segment now.
        #expect(try reopened.catalog.segments().first { $0.seq == 1 }?.state == .sealed)
        let later = (6..<9).map(record)
        try reopened.append(later)
        try reopened.commit()
        #expect(try reopened.lookup(account: "default", id: later[0].id)?.entry.location.segment == 2)
        #expect(try listed(reopened) == (committed + later).map(\.id))
        #expect(try reopened.indexDisagreements() == [])
        try reopened.close()
    }

    func journalPath(_ fixture: StoreFaultTests.Fixture, _ segment: UInt32) -> String {
        fixture.directory.segments + "/" + SegmentJournal.fileName(segment)
    }

    @Test func aRotationInAnAppendLeavesTheSealsFsyncToTheNextCommit() throws {
        let fixture = StoreFaultTests.Fixture { $0.segments.maxSegmentRecords = 8 }
        defer { fixture.directory.remove() }
        let (store, first) = try openWithFiveCommitted(fixture)
        // Every fsync fails from here: the append that seals segment 1 does not make one.
        fixture.faults.fail(.segmentSync, errno: EIO)
        let second = (5..<12).map(record)
        try store.append(second)
        #expect(store.writeStatus.isReady)
        #expect(try store.tailRecordCount() == 4)
        #expect(try store.reader.footer(of: 1)?.recordCount == 8)
        // Not durable yet: its journal is kept and the catalog does not hold it sealed.
        #expect(FileManager.default.fileExists(atPath: journalPath(fixture, 1)))
        #expect(try store.catalog.segments().first { $0.seq == 1 }?.state == .active)
        #expect(fixture.faults.injectedCount(.segmentSync) == 0)
        // Readers meanwhile see the committed logs as before, and the catalog agrees with the segments.
        try samples.expectConsistent(store, listing: first)

        fixture.faults.clear()
        try store.commit()
        #expect(try store.catalog.segments().first { $0.seq == 1 }?.state == .sealed)
        #expect(!FileManager.default.fileExists(atPath: journalPath(fixture, 1)))
        try samples.expectConsistent(store, listing: first + second)
        try store.close()
    }

    @Test func aSealWhoseFsyncFailsAtTheNextCommitIsCutBackWithWhatCameAfter() throws {
        let fixture = StoreFaultTests.Fixture { $0.segments.maxSegmentRecords = 8 }
        defer { fixture.directory.remove() }
        let observer = CommitLog()
        let (store, first) = try openWithFiveCommitted(fixture, observer: observer)
        let durableSize = try fileSize(fixture.directory.segmentPath(1))
        try store.append((5..<12).map(record))
        fixture.faults.fail(.segmentSync, errno: EIO, times: 1)
        #expect(throws: SegmentError.self) { try store.commit() }
        // Nothing after the last commit was fsynced: the seven records are lost and counted, segment 1 is the
        // active segment again, cut back to its durable end, and segment 2 is gone.
        #expect(store.statistics.recordsFailed == 7)
        #expect(observer.appended == 5)
        #expect(try fileSize(fixture.directory.segmentPath(1)) == durableSize)
        #expect(try store.reader.footer(of: 1) == nil)
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.segmentPath(2)))
        try samples.expectConsistent(store, listing: first)

        // The store goes on: the next batch fills segment 1, seals it again and starts segment 2.
        fixture.clock.advance(by: 100)
        let next = (12..<18).map(record)
        try store.append(next)
        try store.commit()
        #expect(store.writeStatus.isReady)
        #expect(try store.reader.footer(of: 1)?.recordCount == 8)
        #expect(try store.catalog.segments().first { $0.seq == 1 }?.state == .sealed)
        #expect(try store.lookup(account: "default", id: next[5].id)?.entry.location.segment == 2)
        try samples.expectConsistent(store, listing: first + next)
        try store.close()
        let reopened = try fixture.open()
        #expect(reopened.statistics.recordsScanned == 0)
        try samples.expectConsistent(reopened, listing: first + next)
        try reopened.close()
    }

    @Test func aRotationAfterAFailedFsyncOfTheSealBeforeItTakesThatFailure() throws {
        let fixture = StoreFaultTests.Fixture { $0.segments.maxSegmentRecords = 4 }
        defer { fixture.directory.remove() }
        let store = try fixture.open()
        let first = (0..<2).map(record)
        try store.append(first)
        try store.commit()
        // Segment 1 fills and is sealed; the commit that fsyncs its seal fails, and is not finished yet when
        // segment 2 fills in turn.
        try store.append((2..<5).map(record))
        fixture.faults.fail(.segmentSync, errno: EIO, times: 1)
        let sync = try #require(try store.beginCommit())
        sync.run()
        #expect(throws: SegmentError.self) { try store.append((5..<9).map(record)) }
        _ = try? store.finishCommit(sync)
        // The failed fsync is not made again and taken as a success: segment 1 is cut back to what the first commit
        // made durable, and nothing after it is listed.
        #expect(try store.reader.footer(of: 1) == nil)
        #expect(!FileManager.default.fileExists(atPath: fixture.directory.segmentPath(2)))
        try samples.expectConsistent(store, listing: first)

        fixture.clock.advance(by: 100)
        let next = (9..<12).map(record)
        try store.append(next)
        try store.commit()
        #expect(store.writeStatus.isReady)
        try samples.expectConsistent(store, listing: first + next)
        try store.close()
    }

    @Test(arguments: [false, true])
    func aCrashBeforeTheSealsFsyncKeepsEveryCommittedRecord(sealLost: Bool) throws {
        let fixture = StoreFaultTests.Fixture { $0.segments.maxSegmentRecords = 8 }
        defer { fixture.directory.remove() }
        var first: [LogRecord] = []
        var second: [LogRecord] = []
        var durableSize: UInt64 = 0
        do {
            let store: LogStore
            (store, first) = try openWithFiveCommitted(fixture)
            durableSize = try fileSize(fixture.directory.segmentPath(1))
            second = (5..<12).map(record)
            try store.append(second)
            #expect(try store.reader.footer(of: 1) != nil)
            // Dropped without closing: a crash of the process, its writes in the page cache.
        }
        if sealLost {
            // A power cut instead: nothing written since the last fsync reached the disk.
            try SegmentFile.openForWriting(fixture.directory.segmentPath(1)).truncate(to: durableSize)
            try SegmentFile.openForWriting(fixture.directory.segmentPath(2))
                .truncate(to: UInt64(SegmentFormat.fileHeaderSize))
        }
        let reopened = try fixture.open()
        // The committed records always; the rest as the disk kept them.
        let kept = sealLost ? first : first + second
        #expect(try reopened.catalog.segments().first { $0.seq == 1 }?.state == .sealed)
        try samples.expectConsistent(reopened, listing: kept)
        let later = (12..<14).map(record)
        try reopened.append(later)
        try reopened.commit()
        try samples.expectConsistent(reopened, listing: kept + later)
        try reopened.close()
    }

    @Test func aFailedPreparationLeavesTheRotationToMakeTheNextSegment() throws {
        let fixture = StoreFaultTests.Fixture { $0.segments.maxSegmentRecords = 4 }
        defer { fixture.directory.remove() }
        let faults = fixture.faults
        let store = try fixture.open()
        faults.fail(.segmentCreate, errno: ENOSPC, times: 1)
        store.prepareNextSegment()
        #expect(faults.injectedCount(.segmentCreate) == 1)
        let records = (0..<6).map(record)
        try store.append(records)
        try store.commit()
        #expect(store.writeStatus.isReady)
        #expect(try store.tailRecordCount() == 2)
        #expect(try listed(store) == records.map(\.id))
        try store.close()
    }
}

extension GroupCommitTests {
    @Test func aCommitFsyncsTheSealItCarriesTheJournalAndTheSegmentAtOnce() throws {
        let fixture = StoreFaultTests.Fixture { $0.segments.maxSegmentRecords = 8 }
        defer { fixture.directory.remove() }
        let (store, first) = try openWithFiveCommitted(fixture)
        // Seals segment 1 (its fsync left to the commit) and writes four records to segment 2 and its journal.
        let second = (5..<12).map(record)
        try store.append(second)
        #expect(FileManager.default.fileExists(atPath: journalPath(fixture, 2)))
        fixture.faults.slow(.segmentSync, milliseconds: 400)
        try store.commit()
        // The sealed segment, segment 2's journal and segment 2 waited for the disk at the same time.
        #expect(fixture.faults.mostAtOnce(.segmentSync) == 3)
        fixture.faults.clear()
        #expect(try store.catalog.segments().first { $0.seq == 1 }?.state == .sealed)
        #expect(!FileManager.default.fileExists(atPath: journalPath(fixture, 1)))
        try samples.expectConsistent(store, listing: first + second)
        try store.close()
    }
}
