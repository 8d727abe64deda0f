import Testing
import TollgateModel

@testable import TollgateStorage

/// Format version 3: a sealed segment's index in groups (`GroupedIndex`), the same entries as the fixed index frame.
@Suite("Grouped index (segment format version 3)")
struct GroupedIndexTests {
    /// Rows in append order as a version 3 writer holds them: ids from the id generator a few milliseconds apart
    /// (with runs inside one millisecond), some from another process's clock (out of order), a record appended
    /// twice (the same id in two rows); blocks of 1 to 90 records.
    func rows(_ count: Int, seed: UInt64) -> (ids: [LogID], offsets: [UInt64], lengths: [UInt32]) {
        var random = SplitMix64(seed: seed)
        let generator = LogIDGenerator()
        var millis: Int64 = 1_764_000_000_000
        var ids: [LogID] = []
        for row in 0..<count {
            if row > 0 && row % 97 == 0 {
                ids.append(ids[row - 1 - Int(random.next() % UInt64(min(row, 40)))])
            } else if row % 31 == 0 {
                ids.append(LogIDGenerator().next(millisecondsSinceEpoch: millis - Int64(random.next() % 5_000)))
            } else {
                if random.next() % 4 != 0 { millis += Int64(random.next() % 40) }
                ids.append(generator.next(millisecondsSinceEpoch: millis))
            }
        }
        var offsets: [UInt64] = []
        var block = UInt64(SegmentFormat.fileHeaderSize)
        var slot = 0
        var blockRecords = 1 + Int(random.next() % 90)
        for _ in 0..<count {
            if slot == blockRecords {
                block += 2_000 + random.next() % 60_000
                slot = 0
                blockRecords = 1 + Int(random.next() % 90)
            }
            offsets.append(SegmentFormat.blockLocationOffset(block: block, slot: slot))
            slot += 1
        }
        let lengths = (0..<count).map { _ in UInt32(200 + random.next() % 3_000) }
        return (ids, offsets, lengths)
    }

    func encode(_ rows: (ids: [LogID], offsets: [UInt64], lengths: [UInt32])) -> [UInt8]? {
        GroupedIndex.encode(
            ids: rows.ids, offsets: rows.offsets, lengths: rows.lengths, order: SegmentIndex.order(of: rows.ids))
    }

    /// `GroupedIndex.locate` over a payload in memory, as the reader runs it over a file.
    func locate(_ id: LogID, in payload: [UInt8]) throws -> RecordLocation? {
        try GroupedIndex.locate(id, segment: 9, payloadSize: payload.count) { count, at in
            Array(payload[at..<min(payload.count, at + count)])
        }
    }

    @Test func holdsTheFixedFramesEntriesInAboutHalfItsBytes() throws {
        let rows = rows(5_000, seed: 1)
        let payload = try #require(encode(rows))
        let fixed = SegmentIndex.payloadSize(count: rows.ids.count)
        #expect(payload.count * 2 < fixed, "\(payload.count) bytes against \(fixed)")
        let expected = SegmentIndex(segment: 9, ids: rows.ids, offsets: rows.offsets, lengths: rows.lengths)
        let decoded = try payload.withUnsafeBytes { try GroupedIndex.decode($0, segment: 9) }
        #expect(decoded == expected)
        #expect(
            try payload.withUnsafeBytes { try SegmentIndex.decode($0, type: .groupedIndex, segment: 9) } == expected)
        // Read a part at a time, every id is found at its first row, and an id next to it that no row has is not.
        for (row, id) in rows.ids.enumerated() where rows.ids.firstIndex(of: id) == row {
            let location = RecordLocation(segment: 9, offset: rows.offsets[row], length: rows.lengths[row])
            #expect(try locate(id, in: payload) == location)
            let next = LogID(high: id.high, low: id.low &+ 1)
            if !rows.ids.contains(next) { #expect(try locate(next, in: payload) == nil) }
        }
        #expect(try locate(LogID(high: 0, low: 0), in: payload) == nil)
        #expect(try locate(LogID(high: .max, low: .max), in: payload) == nil)
    }

    /// A record appended twice whose two entries fall on either side of a group's end: the lookup finds the first.
    @Test func equalIDsAcrossAGroupsEndAreFoundAtTheFirstRow() throws {
        let count = 130
        var ids = (0..<count).map { LogID(high: 0x0190_0000_0000_7000 + UInt64($0) * 3, low: 0x8000_0000_0000_0001) }
        ids[64] = ids[63]
        let offsets = (0..<count).map {
            SegmentFormat.blockLocationOffset(block: UInt64(16 + 5_000 * ($0 / 50)), slot: $0 % 50)
        }
        let lengths = (0..<count).map { UInt32(300 + $0) }
        let payload = try #require(encode((ids, offsets, lengths)))
        #expect(try locate(ids[63], in: payload) == RecordLocation(segment: 9, offset: offsets[63], length: 300 + 63))
        let decoded = try payload.withUnsafeBytes { try GroupedIndex.decode($0, segment: 9) }
        #expect(decoded.location(of: ids[63]) == RecordLocation(segment: 9, offset: offsets[63], length: 300 + 63))
        #expect(decoded.ids == ids.sorted())
    }

    /// Rows the grouped frame cannot name (version 1 frame locations) or gains nothing on are left to the fixed
    /// frame: a version 3 seal then writes that one, and its footer is consistent.
    @Test func rowsItCannotNameGoToTheFixedFrame() throws {
        let rows = rows(200, seed: 2)
        let frameOffsets = (0..<200).map { UInt64(16 + 900 * $0) }
        #expect(
            GroupedIndex.encode(
                ids: rows.ids, offsets: frameOffsets, lengths: rows.lengths, order: SegmentIndex.order(of: rows.ids))
                == nil)
        #expect(GroupedIndex.encode(ids: [], offsets: [], lengths: [], order: []) == nil)

        var builder = ColumnBuilder(segment: 4)
        var factory = RecordFactory(seed: 3)
        for offset in frameOffsets {
            builder.append(factory.record(), at: RecordLocation(segment: 4, offset: offset, length: 900))
        }
        var file = [UInt8](repeating: 0, count: 16 + 900 * 200)
        let footer = try SegmentWriter.writeSealFrames(
            columns: builder, at: UInt64(file.count), version: 3,
            compressor: SegmentWriter.makeColumnsCompressor(level: 3)
        ) { file.append(contentsOf: $0) }
        #expect(file[Int(footer.indexOffset)] == FrameType.index.rawValue)
        #expect(footer.isConsistent(fileSize: UInt64(file.count), version: 3))
    }

    /// A payload cut short, a row named twice, fences out of order: each is `corrupt`, never a crash or a wrong
    /// answer.
    @Test func damagedPayloadsAreCorrupt() throws {
        let rows = rows(300, seed: 4)
        let payload = try #require(encode(rows))
        for cut in stride(from: 0, to: payload.count, by: 7) {
            let short = Array(payload[..<cut])
            #expect(throws: SegmentError.self) { try short.withUnsafeBytes { try GroupedIndex.decode($0, segment: 9) } }
        }
        // Sequential ids in one block: the first group's second entry is at the groups' start + 2 (row 0 and a
        // one-byte length), its row delta is zigzag(+1) = 2; 0 names row 0 again.
        let ids = (0..<100).map { LogID(high: 0x0190_0000_0000_7000 + UInt64($0), low: 9) }
        let offsets = (0..<100).map { SegmentFormat.blockLocationOffset(block: 16, slot: $0) }
        var twice = try #require(encode((ids, offsets, Array(repeating: 100, count: 100))))
        let groupsStart = GroupedIndex.Head.size(count: 100, blockCount: 1)
        #expect(twice[groupsStart + 2] == 2)
        twice[groupsStart + 2] = 0
        #expect(throws: SegmentError.self) { try twice.withUnsafeBytes { try GroupedIndex.decode($0, segment: 9) } }
        // The second fence's id below the first's.
        var fences = try #require(encode((ids, offsets, Array(repeating: 100, count: 100))))
        let secondFence = GroupedIndex.headerSize + GroupedIndex.blockSize + GroupedIndex.fenceSize
        for i in 0..<8 { fences[secondFence + i] = 0 }
        #expect(throws: SegmentError.self) { try fences.withUnsafeBytes { try GroupedIndex.decode($0, segment: 9) } }
        #expect(throws: SegmentError.self) { try locate(ids[70], in: fences) }
    }

    /// A footer whose index length fits a grouped frame is consistent in a version 3 segment only.
    @Test func groupedIndexLengthsAreConsistentInVersion3Only() {
        let count: UInt32 = 1_000
        let fixed = UInt32(SegmentFormat.frameHeaderSize + SegmentIndex.payloadSize(count: Int(count)))
        let grouped = UInt32(SegmentFormat.frameHeaderSize + 15 * Int(count))
        for (length, v2, v3) in [(fixed, true, true), (grouped, false, true), (UInt32(40), false, false)] {
            let footer = SegmentFooter(
                indexOffset: 5_000, indexLength: length, columnsOffset: 5_000 + UInt64(length), columnsLength: 800,
                recordCount: count, minID: LogID(high: 1, low: 0), maxID: LogID(high: 2, low: 0))
            let size = footer.columnsOffset + 800 + UInt64(SegmentFormat.footerFrameSize)
            #expect(footer.isConsistent(fileSize: size, version: 2) == v2)
            #expect(footer.isConsistent(fileSize: size, version: 3) == v3)
        }
    }

    /// What a version 3 or 4 store writes: segments sealed with a grouped index that the reader verifies, finds ids
    /// through (cached or read a part at a time) and reads the columns' positions from, and that a writer opened
    /// again recognises as sealed.
    @Test(arguments: [3, 4] as [UInt8]) func aStoreSealsWithAGroupedIndex(version: UInt8) throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        var configuration = SegmentWriter.Configuration()
        configuration.dictionarySampleRecords = 40
        configuration.formatVersion = version
        var factory = RecordFactory(seed: 7)
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration, logger: quietLogger)
        let records = (0..<2_000).map { _ in factory.record() }
        let locations = try records.map { try writer.append($0) }
        try writer.close()

        let reader = SegmentReader(directory: dir.path)
        #expect(try reader.version(of: 1) == version)
        let footer = try #require(try reader.footer(of: 1))
        let file = try readFile(dir.segmentPath(1))
        #expect(file[Int(footer.indexOffset)] == FrameType.groupedIndex.rawValue)
        let fixed = SegmentFormat.frameHeaderSize + SegmentIndex.payloadSize(count: records.count)
        #expect(Int(footer.indexLength) * 5 < fixed * 3, "\(footer.indexLength) bytes against \(fixed)")
        // A fresh reader locates through the frame read a part at a time; `find` through the whole decoded index.
        for row in stride(from: 0, to: records.count, by: 37) {
            #expect(try SegmentReader(directory: dir.path).locate(records[row].id, in: 1) == locations[row])
            #expect(try reader.find(records[row].id, in: 1)?.location == locations[row])
        }
        #expect(try reader.locate(LogID(high: 1, low: 1), in: 1) == nil)
        #expect(try reader.verify(segment: 1) == records.count)

        // The columns frame leaves each row's id and location to the index: without them it does not decode; the
        // reader gives them from the index, row by row.
        let payload = Array(
            file[
                (Int(footer.columnsOffset) + SegmentFormat.frameHeaderSize)..<(file.count
                    - SegmentFormat.footerFrameSize)])
        let content = try payload.withUnsafeBytes { try ZstdDecompressor().decompress($0) }
        #expect(throws: SegmentError.self) { try content.withUnsafeBytes { try ColumnBlock.decode($0, segment: 1) } }
        let columns = try reader.columns(of: 1)
        #expect(columns.ids == records.map(\.id))
        #expect(columns.offsets == locations.map(\.offset) && columns.lengths == locations.map(\.length))
        #expect(columns.hasListingColumns)

        let again = try SegmentWriter(directory: dir.path, configuration: configuration, logger: quietLogger)
        try again.close()
        #expect(try readFile(dir.segmentPath(1)) == file)
    }
}
