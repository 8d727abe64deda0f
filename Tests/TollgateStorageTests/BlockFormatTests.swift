import Testing
import TollgateModel

@testable import TollgateStorage

/// Format version 2: records in compressed blocks, and version 1 segments beside them.
@Suite("Segment format version 2")
struct BlockFormatTests {
    func configuration(version: UInt8 = 2, _ body: (inout SegmentWriter.Configuration) -> Void = { _ in })
        -> SegmentWriter.Configuration
    {
        var c = SegmentWriter.Configuration()
        c.formatVersion = version
        c.dictionarySampleRecords = 40
        body(&c)
        return c
    }

    func headerVersion(_ dir: TemporaryDirectory, _ segment: UInt32) throws -> UInt8? {
        try SegmentFormat.parseVersionedFileHeader(readFile(dir.segmentPath(segment)))?.version
    }

    @Test func blockContentRoundTripsAndRejectsBadLengths() throws {
        var factory = RecordFactory(seed: 5)
        let records = (0..<7).map { _ in factory.record() }
        var block = RecordBlock()
        for record in records { block.append(RecordCodec.encode(record)) }
        let content = block.encode()
        let all = try content.withUnsafeBytes { try RecordBlock.decodeAll($0) }
        #expect(all.map(\.record) == records)
        #expect(try content.withUnsafeBytes { try RecordBlock.decode($0, slot: 3) } == records[3])
        #expect(throws: SegmentError.self) { try content.withUnsafeBytes { try RecordBlock.decode($0, slot: 7) } }
        var shorter = content
        shorter.removeLast()
        #expect(throws: SegmentError.self) { try shorter.withUnsafeBytes { try RecordBlock.ranges($0) } }
        #expect(throws: SegmentError.self) { try [UInt8]([0]).withUnsafeBytes { try RecordBlock.ranges($0) } }
    }

    /// The writer encodes each record in the block's room (staged, then added) and the count and lengths are
    /// written in front of the encodings when the block closes: the content must be the bytes the format defines,
    /// a record staged while the block is emptied (a rotation) must survive into the next block, and a prefix too
    /// long for the room must still come out right.
    @Test func stagedRecordsMakeTheSameContent() throws {
        var factory = RecordFactory(seed: 9)
        let records = (0..<9).map { _ in factory.record() }
        var staged = RecordBlock()
        for record in records[0..<4] {
            #expect(staged.stage(record) == RecordCodec.encode(record).count)
            _ = staged.commitStaged()
        }
        // Staged, then the block closes before it is added.
        _ = staged.stage(records[4])
        var expected = RecordBlock()
        for record in records[0..<4] { expected.append(RecordCodec.encode(record)) }
        #expect(staged.encode() == expected.encode())
        staged.removeAll()
        #expect(staged.commitStaged() == 0)
        for record in records[5...] {
            _ = staged.stage(record)
            _ = staged.commitStaged()
        }
        let content = staged.encode()
        let all = try content.withUnsafeBytes { try RecordBlock.decodeAll($0) }
        #expect(all.map(\.record) == Array(records[4...]))
        #expect(all.map(\.length) == records[4...].map { RecordCodec.encode($0).count })

        // 1,500 encodings of 20,000 bytes: 3 + 1,500 * 3 bytes of lengths, more than the room before them.
        var long = RecordBlock()
        let encodings = (0..<1_500).map { i in [UInt8](repeating: UInt8(i % 251), count: 20_000) }
        for encoding in encodings { long.append(encoding) }
        let longContent = long.encode()
        let ranges = try longContent.withUnsafeBytes { try RecordBlock.ranges($0) }
        #expect(ranges.count == encodings.count)
        #expect(ranges.indices.allSatisfy { Array(longContent[ranges[$0]]) == encodings[$0] })
    }

    @Test func recordsShareBlocksAndReadBackOneByOne() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var factory = RecordFactory(seed: 11)
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        let records = (0..<300).map { _ in factory.record() }
        let locations = try records.map { try writer.append($0) }
        try writer.sync()
        let reader = SegmentReader(directory: dir.path)
        for (location, record) in zip(locations, records) { #expect(try reader.read(location) == record) }
        let blocks = Set(locations.map { SegmentFormat.blockAndSlot($0.offset).block })
        #expect(blocks.count > 1 && blocks.count < 50)
        #expect(locations == locations.sorted { $0.offset < $1.offset })
        try writer.close()
        #expect(try headerVersion(dir, 1) == 2)
        #expect(try reader.verify(segment: 1) == records.count)
        #expect(try reader.find(records[123].id)?.location == locations[123])
    }

    @Test func aVersion1SegmentStaysReadableBesideVersion2Ones() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var factory = RecordFactory(seed: 3)
        var written: [(RecordLocation, LogRecord)] = []
        // The old writer: a sealed version 1 segment, then a version 1 tail left unsealed.
        let old = try SegmentWriter(directory: dir.path, configuration: configuration(version: 1), logger: quietLogger)
        for _ in 0..<60 {
            let record = factory.record()
            written.append((try old.append(record), record))
        }
        try old.rotate()
        for _ in 0..<20 {
            let record = factory.record()
            written.append((try old.append(record), record))
        }
        try old.close(seal: false)
        #expect(try headerVersion(dir, 1) == 1 && headerVersion(dir, 2) == 1)

        // The new writer continues the version 1 tail, then rotates into version 2.
        var recovered = 0
        let new = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger) { _, _ in
            recovered += 1
        }
        #expect(recovered == 20)
        for _ in 0..<10 {
            let record = factory.record()
            written.append((try new.append(record), record))
        }
        try new.rotate()
        for _ in 0..<50 {
            let record = factory.record()
            written.append((try new.append(record), record))
        }
        try new.close()
        #expect(try headerVersion(dir, 2) == 1 && headerVersion(dir, 3) == 2)

        let reader = SegmentReader(directory: dir.path)
        for (location, record) in written { #expect(try reader.read(location) == record) }
        var scanned = 0
        for segment in try reader.segments() {
            try reader.forEachRecord(in: segment) { _, _ in scanned += 1 }
            try reader.verify(segment: segment)
        }
        #expect(scanned == written.count)
    }

    @Test func aTornLastBlockIsCutWholeAndSyncedBlocksStay() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var factory = RecordFactory(seed: 8)
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        let durable = (0..<25).map { _ in factory.record() }
        for record in durable { _ = try writer.append(record) }
        try writer.sync()
        let durableEnd = try fileSize(dir.segmentPath(1))
        let lost = (0..<25).map { _ in factory.record() }
        for record in lost { _ = try writer.append(record) }
        try writer.flush()
        let end = try fileSize(dir.segmentPath(1))
        #expect(end > durableEnd)
        // A crash that kept only part of the last block.
        var bytes = try readFile(dir.segmentPath(1))
        bytes.removeLast(Int(end - durableEnd) / 2)
        try writeFile(dir.segmentPath(1), bytes)

        var recovered: [LogRecord] = []
        let reopened = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger) {
            recovered.append($1)
        }
        #expect(recovered == durable)
        #expect(reopened.recovery.cuts.first?.offset == durableEnd)
        let next = factory.record()
        let location = try reopened.append(next)
        let (block, slot) = SegmentFormat.blockAndSlot(location.offset)
        #expect(block == durableEnd && slot == 0)
        try reopened.close()
        #expect(try SegmentReader(directory: dir.path).read(location) == next)
    }

    @Test func aDamagedBlockIsAnErrorNeverAWrongRecord() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var factory = RecordFactory(seed: 9)
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        let locations = try (0..<10).map { _ in try writer.append(factory.record()) }
        try writer.close()
        var bytes = try readFile(dir.segmentPath(1))
        let block = Int(SegmentFormat.blockAndSlot(locations[4].offset).block)
        bytes[block + SegmentFormat.frameHeaderSize + 20] ^= 0x40
        try writeFile(dir.segmentPath(1), bytes)
        let reader = SegmentReader(directory: dir.path)
        #expect { try reader.read(locations[4]) } throws: { ($0 as? SegmentError)?.code == .corrupt }
    }
}
