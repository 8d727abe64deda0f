import Glibc
import Testing
import TollgateModel

@testable import TollgateStorage

/// Format version 4: blocks hold the records' payload parts; their metadata is in a journal beside the active
/// segment, and in the columns once it is sealed.
@Suite("Segment format version 4")
struct JournalFormatTests {
    func configuration(version: UInt8 = 4, _ body: (inout SegmentWriter.Configuration) -> Void = { _ in })
        -> SegmentWriter.Configuration
    {
        var c = SegmentWriter.Configuration()
        c.formatVersion = version
        c.dictionarySampleRecords = 40
        c.blockRecords = 16
        body(&c)
        return c
    }

    func journalPath(_ dir: TemporaryDirectory, _ segment: UInt32) -> String {
        dir.segments + "/" + SegmentJournal.fileName(segment)
    }

    /// Records with every field in use somewhere (`useRarerFields`), and statuses the column cannot hold.
    func variedRecords(_ count: Int, seed: UInt64) -> [LogRecord] {
        var factory = RecordFactory(seed: seed)
        return (0..<count).map { i in
            var record = factory.record()
            record.useRarerFields(i)
            switch i % 7 {
            case 2:
                record.statusCode = 502
                record.success = false
            case 5: record.statusCode = i % 14 == 5 ? 70_000 : -1
            case 6: record.ttftMicros = nil
            default: break
            }
            return record
        }
    }

    /// The two parts one after the other are the record, and the payload part completes the record a segment's
    /// columns give back: nothing a version 4 segment keeps is lost in either place.
    @Test func aRecordIsItsTwoParts() throws {
        let records = variedRecords(60, seed: 21)
        var columns = ColumnBlock(segment: 1)
        for (row, record) in records.enumerated() {
            let metadata = RecordCodec.encode(record, part: .metadata)
            let payload = RecordCodec.encode(record, part: .payload)
            let joined = try metadata.withUnsafeBytes { m in
                try payload.withUnsafeBytes { try RecordCodec.decode(m, payload: $0) }
            }
            #expect(joined == record)
            #expect(try RecordCodec.decode(metadata + payload) == record)
            columns.append(record, at: RecordLocation(segment: 1, offset: UInt64(row) << 16, length: 1))
            var fromColumns = columns.metadataRecord(row: row)
            try payload.withUnsafeBytes { try RecordCodec.decode(payload: $0, into: &fromColumns) }
            #expect(fromColumns == record)
        }
        // The whole encoding's bytes are what versions 1–3 wrote (`RecordCodecTests.encodingBytesStayTheSame`).
        let record = records[1]
        #expect(RecordCodec.encode(record, part: .whole) == RecordCodec.encode(record))
    }

    /// A record staged again unsplit (the segment it goes to keeps whole records) leaves no metadata part staged,
    /// which the rotation would count and the next metadata frame would hold.
    @Test func aRecordStagedAgainUnsplitLeavesNoMetadataPart() {
        let record = variedRecords(1, seed: 17)[0]
        var block = RecordBlock()
        let payload = withUnsafePointer(to: record) { block.stage($0, split: true) }
        #expect(payload == RecordCodec.encode(record, part: .payload).count)
        #expect(block.stagedMetadata == RecordCodec.encode(record, part: .metadata).count)
        #expect(block.stage(record) == RecordCodec.encode(record).count)
        #expect(block.stagedMetadata == 0)
    }

    /// One row read from a columns frame by walking past the others is the row a decode of the whole frame gives.
    @Test func oneRowOfAColumnsFrameReadsAsTheWholeFrameReadsIt() throws {
        let records = variedRecords(70, seed: 31)
        var builder = ColumnBuilder(segment: 1)
        for (i, record) in records.enumerated() {
            builder.append(record, at: RecordLocation(segment: 1, offset: UInt64(16 + i) << 16, length: 1))
        }
        let content = builder.encode()
        let block = try content.withUnsafeBytes { try ColumnBlock.decode($0, segment: 1) }
        for row in records.indices {
            let one = try content.withUnsafeBytes { try ColumnBlock.decodeRow($0, row: row, id: records[row].id) }
            #expect(one == block.metadataRecord(row: row))
        }
        #expect(throws: SegmentError.self) {
            try content.withUnsafeBytes { try ColumnBlock.decodeRow($0, row: records.count, id: records[0].id) }
        }
    }

    @Test func recordsReadBackFromTheJournalThenFromTheColumns() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let records = variedRecords(300, seed: 4)
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        let locations = try records.map { try writer.append($0) }
        try writer.sync()
        #expect(access(journalPath(dir, 1), F_OK) == 0)

        let reader = SegmentReader(directory: dir.path)
        for (location, record) in zip(locations, records) { #expect(try reader.read(location) == record) }
        var scanned: [LogRecord] = []
        try reader.forEachRecord(in: 1) { _, record in scanned.append(record) }
        #expect(scanned == records)

        // More records after the journal was read: the reader reads it again for their blocks.
        let later = variedRecords(40, seed: 5)
        let laterLocations = try later.map { try writer.append($0) }
        try writer.flush()
        for (location, record) in zip(laterLocations, later) { #expect(try reader.read(location) == record) }

        try writer.close()
        #expect(access(journalPath(dir, 1), F_OK) != 0)
        let sealedReader = SegmentReader(directory: dir.path)
        for (location, record) in zip(locations + laterLocations, records + later) {
            #expect(try sealedReader.read(location) == record)
        }
        // The reader that read the journal before the seal reads the columns now.
        #expect(try reader.read(locations[7]) == records[7])
        // A caller that holds a record's metadata (a log's index entry) has only the payload part read.
        for k in stride(from: 0, to: records.count, by: 29) {
            let metadata = try RecordCodec.decode(RecordCodec.encode(records[k], part: .metadata))
            #expect(try sealedReader.read(locations[k], metadata: metadata) == records[k])
        }
        #expect(try sealedReader.verify(segment: 1) == records.count + later.count)
        #expect(try sealedReader.find(records[123].id)?.record == records[123])
        #expect(try SegmentFormat.parseVersionedFileHeader(readFile(dir.segmentPath(1)))?.version == 4)
    }

    /// What keeping the metadata out of the blocks is for: the same records take fewer bytes.
    @Test func aSealedVersion4SegmentIsSmallerThanAVersion3One() throws {
        var sizes: [UInt8: UInt64] = [:]
        let records = variedRecords(400, seed: 6)
        for version: UInt8 in [3, 4] {
            let dir = TemporaryDirectory()
            defer { dir.remove() }
            let writer = try SegmentWriter(
                directory: dir.path, configuration: configuration(version: version) { $0.blockRecords = 1024 },
                logger: quietLogger)
            for record in records { _ = try writer.append(record) }
            try writer.close()
            sizes[version] = try fileSize(dir.segmentPath(1))
        }
        #expect(sizes[4]! < sizes[3]!)
    }

    /// A crash after blocks reached the segment but before their metadata frames were all on disk: recovery keeps
    /// the records a sync made durable and cuts both files after them.
    @Test func aBlockWithoutItsMetadataIsCutWithEverythingAfterIt() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let records = variedRecords(64, seed: 8)
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        for record in records[0..<32] { _ = try writer.append(record) }
        try writer.sync()
        let durableSegment = try fileSize(dir.segmentPath(1))
        let durableJournal = try fileSize(journalPath(dir, 1))
        for record in records[32...] { _ = try writer.append(record) }
        try writer.flush()
        // The journal lost half of what came after the sync.
        var journal = try readFile(journalPath(dir, 1))
        let grown = journal.count - Int(durableJournal)
        #expect(grown > 0)
        journal.removeLast(grown / 2)
        try writeFile(journalPath(dir, 1), journal)

        var recovered: [LogRecord] = []
        let reopened = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger) {
            recovered.append($1)
        }
        // Whole metadata frames before the torn one keep their blocks; the rest is cut.
        #expect(recovered.count >= 32 && recovered.count < 64)
        #expect(recovered == Array(records[0..<recovered.count]))
        let cut = try #require(reopened.recovery.cuts.first)
        #expect(cut.offset >= durableSegment && cut.reason.contains("metadata"))
        #expect(try fileSize(journalPath(dir, 1)) < UInt64(journal.count) + 1)
        let next = variedRecords(1, seed: 99)[0]
        let location = try reopened.append(next)
        try reopened.sync()
        #expect(try SegmentReader(directory: dir.path).read(location) == next)
        try reopened.close()
        let reader = SegmentReader(directory: dir.path)
        var scanned: [LogRecord] = []
        try reader.forEachRecord(in: 1) { _, record in scanned.append(record) }
        #expect(scanned == recovered + [next])
        try reader.verify(segment: 1)
    }

    @Test func aTailWithoutAJournalKeepsNoBlock() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        for record in variedRecords(20, seed: 2) { _ = try writer.append(record) }
        try writer.sync()
        try SegmentDirectory.remove(journalPath(dir, 1))
        var recovered = 0
        let reopened = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger) {
            _, _ in recovered += 1
        }
        #expect(recovered == 0)
        #expect(reopened.recovery.cuts.first?.offset == UInt64(SegmentFormat.fileHeaderSize))
        #expect(access(journalPath(dir, 1), F_OK) == 0)
        let record = variedRecords(1, seed: 3)[0]
        let location = try reopened.append(record)
        try reopened.close()
        #expect(try SegmentReader(directory: dir.path).read(location) == record)
    }

    @Test func aJournalBesideASealedSegmentIsDeletedOnOpen() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let records = variedRecords(30, seed: 12)
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        for record in records[0..<20] { _ = try writer.append(record) }
        try writer.sync()
        let journal = try readFile(journalPath(dir, 1))
        try writer.close()
        // A crash between the seal's fsync and the journal's delete.
        try writeFile(journalPath(dir, 1), journal)
        let reopened = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        #expect(access(journalPath(dir, 1), F_OK) != 0)
        #expect(reopened.activeSegment == 2 && access(journalPath(dir, 2), F_OK) == 0)
        try reopened.close()
        #expect(try SegmentReader(directory: dir.path).verify(segment: 1) == 20)
    }

    /// A version 3 tail continues in version 3 and the store rotates into version 4; a record staged for the old
    /// segment is staged again for the new one.
    @Test func aVersion3TailRotatesIntoVersion4() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let records = variedRecords(90, seed: 13)
        var written: [(RecordLocation, LogRecord)] = []
        let old = try SegmentWriter(directory: dir.path, configuration: configuration(version: 3), logger: quietLogger)
        for record in records[0..<30] { written.append((try old.append(record), record)) }
        try old.close(seal: false)
        let new = try SegmentWriter(
            directory: dir.path, configuration: configuration { $0.maxSegmentRecords = 40 }, logger: quietLogger)
        for record in records[30...] { written.append((try new.append(record), record)) }
        try new.close()
        let reader = SegmentReader(directory: dir.path)
        #expect(try reader.version(of: 1) == 3 && reader.version(of: 2) == 4)
        for (location, record) in written { #expect(try reader.read(location) == record) }
        for segment in try reader.segments() { try reader.verify(segment: segment) }
    }

    /// Compaction of a version 4 or 5 segment: a deleted log's block is written again with its usage record's
    /// payload part, and every record reads back from the rewritten segment's columns (in row groups in version 5).
    @Test(arguments: [4, 5] as [UInt8])
    func compactionRewritesPayloadPartsAndKeepsTheRest(version: UInt8) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let records = variedRecords(80, seed: 14).map { record -> LogRecord in
            var logged = record
            logged.logged = true
            logged.refusal = nil
            return logged
        }
        let writer = try SegmentWriter(
            directory: dir.path, configuration: configuration(version: version) { $0.columnGroupRows = 32 },
            logger: quietLogger)
        for record in records { _ = try writer.append(record) }
        try writer.close()
        let reader = SegmentReader(directory: dir.path)
        let purged = Set([records[3], records[40], records[41]].map { LogKey(account: $0.account, id: $0.id) })
        guard case .rewrite(let rewrite) = try SegmentCompaction.compact(segment: 1, reader: reader, purge: purged)
        else {
            Issue.record("a segment with live logs is rewritten")
            return
        }
        #expect(Set(rewrite.purged) == purged)
        try SegmentCompaction.install(segment: 1, segmentsPath: dir.segments)
        reader.forget(segment: 1)
        #expect(try reader.version(of: 1) == version)
        let grouped = try ColumnGroupsTests().columnsFrame(dir, 1).flags & SegmentFormat.flagCompressed == 0
        #expect(grouped == (version >= 5))
        var scanned: [LogRecord] = []
        var locations: [RecordLocation] = []
        try reader.forEachRecord(in: 1) { location, record in
            scanned.append(record)
            locations.append(location)
        }
        for (location, record) in zip(locations, scanned) {
            #expect(try reader.read(location) == record)
            #expect(try SegmentReader(directory: dir.path).read(location) == record)  // the row alone
        }
        let expected = records.map { purged.contains(LogKey(account: $0.account, id: $0.id)) ? $0.usageRecord : $0 }
        #expect(scanned == expected)
        try reader.verify(segment: 1)
    }
}
