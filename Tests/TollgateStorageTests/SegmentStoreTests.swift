import Foundation
import Testing
import TollgateModel

@testable import TollgateStorage

@Suite("Segment writer and reader")
struct SegmentStoreTests {
    func configuration(_ body: (inout SegmentWriter.Configuration) -> Void = { _ in }) -> SegmentWriter.Configuration {
        var c = SegmentWriter.Configuration()
        c.dictionarySampleRecords = 100
        body(&c)
        return c
    }

    @Test func appendThenReadBack() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        #expect(writer.activeSegment == 1)
        #expect(writer.recovery.scannedSegments.isEmpty)
        var factory = RecordFactory()
        var written: [(RecordLocation, LogRecord)] = []
        for _ in 0..<300 {
            let record = factory.record()
            written.append((try writer.append(record), record))
        }
        try writer.sync()
        #expect(writer.dictionaryID == 32768)
        let reader = SegmentReader(directory: dir.path)
        for (location, record) in written {
            #expect(try reader.read(location) == record)
        }
        // The active segment's columns are kept by the writer.
        #expect(writer.activeColumns.count == 300)
        #expect(writer.activeColumns.ids == written.map { $0.1.id })
        #expect(writer.activeColumns.location(row: 10) == written[10].0)
        // Iteration sees every flushed record, in order.
        var seen: [LogID] = []
        try reader.forEachRecord(in: 1) { location, record in
            #expect(location == written[seen.count].0)
            seen.append(record.id)
        }
        #expect(seen == written.map { $0.1.id })
        // Not sealed yet: no index, no column block from disk.
        #expect(try reader.footer(of: 1) == nil)
        #expect { try reader.columns(of: 1) } throws: { ($0 as? SegmentError)?.code == .notSealed }
        try writer.close(seal: false)
    }

    @Test func sealedSegmentHasIndexAndColumns() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var sealed: [SealedSegment] = []
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        writer.onSeal = { sealed.append($0) }
        var factory = RecordFactory(seed: 5)
        var written: [(RecordLocation, LogRecord)] = []
        for i in 0..<150 {
            var record = factory.record()
            if i % 10 == 0 {
                record.model = nil
                record.usage = Usage()
                record.success = false
                record.statusCode = 502
            }
            written.append((try writer.append(record), record))
        }
        // The writer's encoded columns decode to the rows of the records written.
        var expectedColumns = ColumnBlock(segment: 1)
        for (location, record) in written { expectedColumns.append(record, at: location) }
        #expect(try writer.activeColumnBlock() == expectedColumns)
        try writer.rotate()
        #expect(writer.activeSegment == 2)
        #expect(sealed.map(\.segment) == [1])
        #expect(sealed[0].footer.recordCount == 150)

        let reader = SegmentReader(directory: dir.path)
        let footer = try #require(try reader.footer(of: 1))
        #expect(footer == sealed[0].footer)
        let columns = try reader.columns(of: 1)
        #expect(columns == expectedColumns)
        #expect(columns.count == 150)
        for (row, (location, record)) in written.enumerated() {
            #expect(columns.ids[row] == record.id)
            #expect(columns.location(row: row) == location)
            #expect(columns.createdAt[row] == record.createdAt)
            // Every field a listing shows, from the columns alone.
            #expect(
                LogIndexEntry(columns: columns, row: row, cost: nil, saved: nil, annotation: nil)
                    == LogIndexEntry(record, location: location))
            #expect(columns.lengths[row] == location.length)
        }
        #expect(columns.strings(.provider).dictionary.count <= RecordFactory.models.count)
        #expect(columns.hasListingColumns)

        // Index lookups: every id, in this segment and across segments; unknown ids are not found.
        for (location, record) in written.shuffled() {
            let found = try #require(try reader.find(record.id, in: 1))
            #expect(found.location == location)
            #expect(found.record == record)
        }
        #expect(try reader.index(of: 1).count == 150)
        #expect(try reader.verify(segment: 1) == 150)
        // Its bytes by part add up to the file, the index (grouped, version 3) being under the fixed frame's 28
        // bytes an entry.
        let parts = try reader.parts(of: 1)
        let size = try #require(
            try FileManager.default.attributesOfItem(atPath: dir.path + "/segments/00000001.seg")[.size] as? Int)
        #expect(Int(parts.records + parts.index + parts.columns + parts.framing) == size)
        #expect(parts.index == UInt64(footer.indexLength) && parts.index < 10 + 4 + 150 * 28)
        #expect(parts.columns == UInt64(footer.columnsLength))
        #expect(parts.records == footer.indexOffset - 16)
        #expect(try reader.find(LogID(high: 1, low: 1), in: 1) == nil)
        let later = try writer.append(factory.record())
        try writer.rotate()
        let latest = try reader.read(later)
        #expect(try reader.find(latest.id)?.location == later)
        #expect(try reader.find(written[3].1.id)?.location == written[3].0)
        #expect(try reader.find(LogID(high: 0, low: 0)) == nil)
        #expect(try reader.segments() == [1, 2, 3])
        try writer.close()
    }

    @Test func rotatesBySizeWithoutSplittingFrames() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let writer = try SegmentWriter(
            directory: dir.path, configuration: configuration { $0.maxSegmentBytes = 64 * 1024 }, logger: quietLogger)
        var factory = RecordFactory(seed: 9)
        var written: [(RecordLocation, LogRecord)] = []
        for _ in 0..<600 {
            let record = factory.record()
            written.append((try writer.append(record), record))
        }
        try writer.close()
        let reader = SegmentReader(directory: dir.path)
        let segments = try reader.segments()
        #expect(segments.count > 3)
        var total = 0
        for segment in segments {
            let footer = try #require(try reader.footer(of: segment))
            // Record frames stay under the size limit; the seal comes on top.
            #expect(footer.indexOffset <= 64 * 1024)
            total += Int(footer.recordCount)
        }
        #expect(total == 600)
        for (location, record) in written { #expect(try reader.read(location) == record) }
        #expect(Set(written.map { $0.0.segment }).count == segments.count)
        for segment in segments { #expect(try reader.verify(segment: segment) > 0) }
    }

    @Test func rotatesByAgeWithInjectedClock() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let clock = TestClock()
        let writer = try SegmentWriter(
            directory: dir.path,
            configuration: configuration {
                $0.maxSegmentAgeMillis = 60_000
                $0.clock = clock.clock
            }, logger: quietLogger)
        var factory = RecordFactory(seed: 11)
        #expect(try writer.sealIfDue() == false)
        clock.advance(by: 3_600_000)
        #expect(try writer.sealIfDue() == false)  // empty segments are not sealed by age
        let first = try writer.append(factory.record())
        clock.advance(by: 59_999)
        #expect(try writer.sealIfDue() == false)
        let second = try writer.append(factory.record())
        clock.advance(by: 1)
        #expect(try writer.sealIfDue() == true)
        #expect(writer.activeSegment == 2)
        let third = try writer.append(factory.record())
        clock.advance(by: 60_000)
        let fourth = try writer.append(factory.record())  // the append itself seals the old segment first
        #expect([first.segment, second.segment, third.segment, fourth.segment] == [1, 1, 2, 3])
        try writer.close()
        let reader = SegmentReader(directory: dir.path)
        #expect(try reader.footer(of: 1)?.recordCount == 2)
        #expect(try reader.footer(of: 2)?.recordCount == 1)
        #expect(try reader.footer(of: 3)?.recordCount == 1)
    }

    @Test func createsMissingDataFolders() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let nested = dir.path + "/a/b/data"
        let writer = try SegmentWriter(directory: nested, configuration: configuration(), logger: quietLogger)
        #expect(try SegmentDirectory.list(nested).sorted() == ["dicts", "segments"])
        // The active segment and (format version 4) its journal.
        #expect(try SegmentDirectory.list(nested + "/segments").sorted() == ["00000001.journal", "00000001.seg"])
        try writer.close()
    }

    @Test func reopenAfterCleanCloseStartsANewSegmentAndScansNothing() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var factory = RecordFactory(seed: 13)
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        let location = try writer.append(factory.record())
        try writer.close()
        let reopened = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        #expect(reopened.recovery.scannedSegments.isEmpty)
        #expect(reopened.recovery.cuts.isEmpty)
        #expect(reopened.activeSegment == 2)
        let next = try reopened.append(factory.record())
        // The first slot of a block right after the header (a version 2 location).
        #expect(next.segment == 2 && SegmentFormat.blockAndSlot(next.offset).block == 16)
        #expect(SegmentFormat.blockAndSlot(next.offset).slot == 0)
        try reopened.close()
        #expect(try SegmentReader(directory: dir.path).read(location).id != LogID(high: 0, low: 0))
    }

    @Test func dictionarySurvivesReopen() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var factory = RecordFactory(seed: 17)
        var written: [(RecordLocation, LogRecord)] = []
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        for _ in 0..<150 {
            let record = factory.record()
            written.append((try writer.append(record), record))
        }
        let id = try #require(writer.dictionaryID)
        try writer.close(seal: false)
        // Dictionary stored durably under its id, with no temp file left.
        #expect(try SegmentDirectory.list(dir.path + "/dicts") == ["\(id).dict"])

        let reopened = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        #expect(reopened.dictionaryID == id)
        #expect(reopened.recovery.records.count == 150)
        for _ in 0..<20 {
            let record = factory.record()
            written.append((try reopened.append(record), record))
        }
        try reopened.close()
        // A fresh reader loads the dictionary from dicts/ and reads records from before and after training.
        let reader = SegmentReader(directory: dir.path)
        for (location, record) in written { #expect(try reader.read(location) == record) }

        // Records compressed with it name it; without the file they are an error, never garbage.
        try SegmentDirectory.remove(dir.path + "/dicts/\(id).dict")
        let blind = SegmentReader(directory: dir.path)
        #expect { try blind.read(written.last!.0) } throws: { ($0 as? SegmentError)?.code == .notFound }
        #expect(try blind.read(written[0].0) == written[0].1)  // compressed before the dictionary existed
    }

    @Test func unknownFrameTypesAreSkipped() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var factory = RecordFactory(seed: 19)
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        let a = factory.record()
        _ = try writer.append(a)
        try writer.close(seal: false)
        // A later version writes a frame of type 77 between records.
        var bytes = try readFile(dir.segmentPath(1))
        var unknown: [UInt8] = [77, 0, 3, 0, 0, 0]
        unknown += withUnsafeBytes(of: CRC32C.checksum(unknown + [9, 9, 9]).littleEndian) { Array($0) } + [9, 9, 9]
        bytes += unknown
        try writeFile(dir.segmentPath(1), bytes)

        let reopened = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        #expect(reopened.recovery.cuts.isEmpty)
        let b = factory.record()
        let location = try reopened.append(b)
        try reopened.sync()
        var seen: [LogID] = []
        try SegmentReader(directory: dir.path).forEachRecord(in: 1) { _, r in seen.append(r.id) }
        #expect(seen == [a.id, b.id])
        #expect(try SegmentReader(directory: dir.path).read(location) == b)
        try reopened.close()
        #expect(try SegmentReader(directory: dir.path).find(b.id, in: 1)?.location == location)
    }

    @Test func readerRejectsBadLocations() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var factory = RecordFactory(seed: 23)
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        let location = try writer.append(factory.record())
        try writer.sync()
        let reader = SegmentReader(directory: dir.path)
        var shifted = location
        shifted.offset += 1
        #expect(throws: SegmentError.self) { try reader.read(shifted) }
        var longer = location
        longer.length += 1
        #expect(throws: SegmentError.self) { try reader.read(longer) }
        var elsewhere = location
        elsewhere.segment = 9
        #expect { try reader.read(elsewhere) } throws: { ($0 as? SegmentError)?.code == .notFound }
        try writer.close()
    }

    @Test func concurrentReadersShareOneReader() async throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var factory = RecordFactory(seed: 29)
        let writer = try SegmentWriter(
            directory: dir.path, configuration: configuration { $0.maxSegmentBytes = 100 * 1024 }, logger: quietLogger)
        var written: [(RecordLocation, LogRecord)] = []
        for _ in 0..<400 {
            let record = factory.record()
            written.append((try writer.append(record), record))
        }
        try writer.close()
        let reader = SegmentReader(directory: dir.path, maxOpenFiles: 2, maxCachedIndexes: 2)
        let all = written
        let mismatches = try await withThrowingTaskGroup(of: Int.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var bad = 0
                    for (i, (location, record)) in all.enumerated() where i % 8 == worker {
                        if try reader.read(location) != record { bad += 1 }
                        if try reader.find(record.id, in: location.segment)?.location != location { bad += 1 }
                    }
                    return bad
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(mismatches == 0)
    }

    @Test func recordAppendedTwiceIsIndexedTwice() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var factory = RecordFactory(seed: 31)
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        let record = factory.record()
        let first = try writer.append(factory.record())
        let twiceA = try writer.append(record)
        let twiceB = try writer.append(record)
        try writer.close()
        let reader = SegmentReader(directory: dir.path)
        #expect(try reader.index(of: 1).count == 3)
        #expect(try reader.find(record.id, in: 1)?.location == twiceA)
        #expect(twiceB != twiceA)
        #expect(try reader.read(first).id != record.id)
    }
}
