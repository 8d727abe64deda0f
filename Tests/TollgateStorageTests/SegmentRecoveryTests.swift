import Testing
import TollgateModel

@testable import TollgateStorage

@Suite("Segment recovery")
struct SegmentRecoveryTests {
    func configuration() -> SegmentWriter.Configuration {
        var c = SegmentWriter.Configuration()
        // These tests cut and damage version 1 record frames by location; version 2 blocks: BlockFormatTests.
        c.formatVersion = 1
        c.dictionarySampleRecords = 40
        return c
    }

    /// A store with `count` synced records in an unsealed segment 1; the last one small.
    func makeStore(_ dir: TemporaryDirectory, count: Int, seed: UInt64 = 1) throws -> [(RecordLocation, LogRecord)] {
        var factory = RecordFactory(seed: seed)
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        var written: [(RecordLocation, LogRecord)] = []
        for i in 0..<count {
            var record = factory.record()
            if i == count - 1 {
                record.requestBody = Array("{\"model\":\"gpt-4o-mini\",\"messages\":[]}".utf8)
                record.responseBody = Array("{\"error\":{\"message\":\"bad\"}}".utf8)
                record.requestHeaders = []
                record.responseHeaders = []
            }
            written.append((try writer.append(record), record))
        }
        try writer.close(seal: false)
        return written
    }

    @Test func truncatingTheLastRecordAtEveryOffset() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let written = try makeStore(dir, count: 50)
        let original = try readFile(dir.segmentPath(1))
        let dictionaries = try SegmentDirectory.list(dir.path + "/dicts")
        #expect(dictionaries.count == 1)
        let last = written.last!.0
        let lastStart = Int(last.offset)
        #expect(lastStart + Int(last.length) == original.count)
        var extra = RecordFactory(seed: 99)
        let appended = extra.record()

        for cut in lastStart..<original.count {
            try writeFile(dir.segmentPath(1), Array(original[0..<cut]))
            var recovered: [LogID] = []
            let writer = try SegmentWriter(
                directory: dir.path, configuration: configuration(), logger: quietLogger,
                onRecoveredRecord: { _, record in recovered.append(record.id) })
            // Only whole records survive, the file is cut cleanly at the end of the last whole one.
            #expect(recovered == written.dropLast().map { $0.1.id }, "cut at \(cut)")
            #expect(writer.recovery.records.map(\.location) == written.dropLast().map { $0.0 })
            #expect(writer.recovery.scannedSegments == [1])
            if cut > lastStart {
                let cutReport = try #require(writer.recovery.cuts.first)
                #expect(writer.recovery.cuts.count == 1)
                #expect(cutReport.segment == 1 && cutReport.offset == UInt64(lastStart))
                #expect(cutReport.bytesCut == UInt64(cut - lastStart))
                #expect(cutReport.reason.hasPrefix("torn"))
            } else {
                #expect(writer.recovery.cuts.isEmpty)
            }
            #expect(try fileSize(dir.segmentPath(1)) == UInt64(lastStart))
            // Appends continue right after.
            let location = try writer.append(appended)
            #expect(location == RecordLocation(segment: 1, offset: UInt64(lastStart), length: location.length))
            try writer.sync()
            #expect(try SegmentReader(directory: dir.path).read(location) == appended)
            try writer.close(seal: false)
        }
    }

    @Test func flippedByteInTheLastRecord() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let written = try makeStore(dir, count: 50, seed: 2)
        let original = try readFile(dir.segmentPath(1))
        let last = written.last!.0
        for position in [
            Int(last.offset), Int(last.offset) + 3, Int(last.offset) + 7, Int(last.offset) + 12, original.count - 1,
        ] {
            var bytes = original
            bytes[position] ^= 0x5A
            try writeFile(dir.segmentPath(1), bytes)
            #expect(throws: SegmentError.self) { try SegmentReader(directory: dir.path).read(last) }
            // Iteration stops before it (an error, or the end of the written part when the length was hit).
            var seen = 0
            try? SegmentReader(directory: dir.path).forEachRecord(in: 1) { _, _ in seen += 1 }
            #expect(seen == 49)
            let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
            #expect(writer.recovery.records.count == 49)
            #expect(writer.recovery.cuts.count == 1)
            #expect(writer.recovery.cuts.first?.offset == last.offset)
            #expect(writer.recovery.cuts.first?.bytesCut == UInt64(last.length))
            #expect(try fileSize(dir.segmentPath(1)) == last.offset)
            try writer.close(seal: false)
        }
    }

    @Test func flippedByteInAMiddleRecord() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let written = try makeStore(dir, count: 50, seed: 3)
        let middle = written[20].0
        var bytes = try readFile(dir.segmentPath(1))
        bytes[Int(middle.offset) + Int(middle.length) / 2] ^= 0x01
        try writeFile(dir.segmentPath(1), bytes)
        let reader = SegmentReader(directory: dir.path)
        #expect { try reader.read(middle) } throws: { ($0 as? SegmentError)?.code == .corrupt }
        // Its neighbours still verify and read.
        #expect(try reader.read(written[19].0) == written[19].1)
        #expect(try reader.read(written[21].0) == written[21].1)

        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        // Nothing after a bad frame is kept.
        #expect(writer.recovery.records.map(\.id) == written.prefix(20).map { $0.1.id })
        #expect(writer.recovery.cuts.first?.offset == middle.offset)
        #expect(writer.recovery.cuts.first?.reason.hasPrefix("bad checksum") == true)
        #expect(try fileSize(dir.segmentPath(1)) == middle.offset)
        #expect(writer.activeColumns.count == 20)
        try writer.close(seal: false)
    }

    @Test func reopenAfterRotationScansOnlyTheTail() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var config = configuration()
        config.maxSegmentBytes = 48 * 1024
        var factory = RecordFactory(seed: 4)
        let writer = try SegmentWriter(directory: dir.path, configuration: config, logger: quietLogger)
        var written: [(RecordLocation, LogRecord)] = []
        for _ in 0..<300 {
            let record = factory.record()
            written.append((try writer.append(record), record))
        }
        let tail = writer.activeSegment
        #expect(tail > 3)
        try writer.close(seal: false)  // crash-like: the active segment stays unsealed

        // Damage a sealed segment's records: if recovery read sealed segments, it would notice.
        var sealed = try readFile(dir.segmentPath(2))
        sealed[100] ^= 0xFF
        try writeFile(dir.segmentPath(2), sealed)

        var recovered: [RecordLocation] = []
        let reopened = try SegmentWriter(
            directory: dir.path, configuration: config, logger: quietLogger,
            onRecoveredRecord: { location, _ in recovered.append(location) })
        #expect(reopened.recovery.scannedSegments == [tail])
        #expect(reopened.recovery.cuts.isEmpty)
        #expect(reopened.activeSegment == tail)
        #expect(recovered == written.filter { $0.0.segment == tail }.map { $0.0 })
        #expect(reopened.activeColumns.ids == written.filter { $0.0.segment == tail }.map { $0.1.id })
        // The damaged sealed record is refused by the reader, never returned; its neighbours still read.
        let damaged = try #require(
            written.first { $0.0.segment == 2 && $0.0.offset <= 100 && 100 < $0.0.offset + UInt64($0.0.length) })
        let reader = SegmentReader(directory: dir.path)
        #expect { try reader.read(damaged.0) } throws: { ($0 as? SegmentError)?.code == .corrupt }
        #expect { try reader.verify(segment: 2) } throws: { ($0 as? SegmentError)?.code == .corrupt }
        #expect(try reader.verify(segment: 1) > 0)
        try reopened.close()
    }

    @Test func unfinishedSealAndOlderUnsealedSegmentsAreRepaired() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let written = try makeStore(dir, count: 30, seed: 5)
        // Seal segment 1, then chop its footer off: a crash in the middle of sealing.
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        try writer.close(seal: true)
        let sealedBytes = try readFile(dir.segmentPath(1))
        let recordsEnd = Int(written.last!.0.offset) + Int(written.last!.0.length)
        try writeFile(dir.segmentPath(1), Array(sealedBytes[0..<(sealedBytes.count - 5)]))
        // ...and pretend segment 2 had been started after it (it never is before the seal's fsync, but recovery
        // must cope with any number of unsealed segments).
        try writeFile(dir.segmentPath(2), SegmentFormat.fileHeader(sequence: 2))

        let reopened = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        #expect(reopened.recovery.scannedSegments == [1, 2])
        #expect(reopened.recovery.sealedSegments == [1])
        #expect(reopened.recovery.cuts.first?.segment == 1)
        #expect(reopened.recovery.cuts.first?.offset == UInt64(recordsEnd))
        #expect(reopened.recovery.records.count == 30)
        #expect(reopened.activeSegment == 2)
        try reopened.close()
        let reader = SegmentReader(directory: dir.path)
        #expect(try reader.footer(of: 1)?.recordCount == 30)
        for (location, record) in written { #expect(try reader.find(record.id, in: 1)?.location == location) }
        #expect(try reader.verify(segment: 1) == 30)
    }

    @Test func tailWithoutAValidHeaderIsRestarted() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        _ = try makeStore(dir, count: 3, seed: 6)
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        try writer.close(seal: true)
        // Segment 2 was created but its header never reached the disk.
        try writeFile(dir.segmentPath(2), [0x54, 0x47])
        let reopened = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        #expect(reopened.recovery.scannedSegments == [2])
        #expect(reopened.recovery.cuts == [.init(segment: 2, offset: 0, bytesCut: 2, reason: "invalid file header")])
        var factory = RecordFactory(seed: 60)
        let record = factory.record()
        let location = try reopened.append(record)
        #expect(location.segment == 2 && location.offset == 16)
        try reopened.sync()
        #expect(try SegmentReader(directory: dir.path).read(location) == record)
        try reopened.close()
    }
}
