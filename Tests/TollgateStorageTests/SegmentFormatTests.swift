import Testing
import TollgateModel

@testable import TollgateStorage

@Suite("Segment format pieces")
struct SegmentFormatTests {
    @Test func crc32cCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
        // Slicing-by-8 path equals the byte-by-byte path on odd lengths.
        let data = (0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var state: UInt32 = 0xFFFF_FFFF
        for b in data { state = [b].withUnsafeBytes { CRC32C.update(state, $0) } }
        #expect(~state == CRC32C.checksum(data))
    }

    /// The CPU's instruction and the tables give the same checksum for every length, start and running state (on a
    /// CPU without the instruction both sides are the tables).
    @Test func crc32cInstructionAndTablesAgree() {
        var generator = SystemRandomNumberGenerator()
        let data = (0..<300).map { _ in UInt8.random(in: 0...255, using: &generator) }
        data.withUnsafeBytes { all in
            for start in 0..<9 {
                for length in 0..<(all.count - start) {
                    let piece = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
                    for state: UInt32 in [0xFFFF_FFFF, 0, 0x1234_5678] {
                        #expect(CRC32C.update(state, piece) == CRC32C.tableUpdate(state, piece))
                    }
                }
            }
        }
        #expect(CRC32C.tableUpdate(0xFFFF_FFFF, UnsafeRawBufferPointer(start: nil, count: 0)) == 0xFFFF_FFFF)
    }

    @Test func fileNames() {
        #expect(SegmentFormat.fileName(1) == "00000001.seg")
        #expect(SegmentFormat.fileName(123_456_789) == "123456789.seg")
        #expect(SegmentFormat.sequence(fromFileName: "00000042.seg") == 42)
        #expect(SegmentFormat.sequence(fromFileName: "42.seg") == nil)
        #expect(SegmentFormat.sequence(fromFileName: "00000042.seg.tmp") == nil)
        #expect(SegmentFormat.sequence(fromFileName: "0000004x.seg") == nil)
        #expect(SegmentFormat.sequence(fromFileName: "00000000.seg") == nil)
    }

    @Test func fileHeaderLayout() throws {
        let header = SegmentFormat.fileHeader(sequence: 0x0102_0304, version: 1)
        #expect(header.count == 16)
        #expect(Array(header[0..<8]) == [0x54, 0x47, 0x53, 0x47, 1, 0, 0, 0])
        #expect(SegmentFormat.fileHeader(sequence: 1)[4] == 5)
        let parsed = try #require(try SegmentFormat.parseVersionedFileHeader(SegmentFormat.fileHeader(sequence: 7)))
        #expect(parsed.sequence == 7 && parsed.version == 5)
        #expect(Array(header[8..<12]) == [4, 3, 2, 1])  // little-endian
        #expect(try SegmentFormat.parseFileHeader(header) == 0x0102_0304)
        var bad = header
        bad[9] ^= 1
        #expect(try SegmentFormat.parseFileHeader(bad) == nil)
    }

    @Test func frameLayoutAndChecksumCoverage() {
        var out: [UInt8] = []
        let n = SegmentFormat.appendFrame(type: .record, flags: 1, payload: [0xAA, 0xBB, 0xCC], to: &out)
        #expect(n == 13 && out.count == 13)
        #expect(Array(out[0..<6]) == [1, 1, 3, 0, 0, 0])
        let expectedCRC = CRC32C.checksum([1, 1, 3, 0, 0, 0, 0xAA, 0xBB, 0xCC])
        #expect(Array(out[6..<10]) == withUnsafeBytes(of: expectedCRC.littleEndian) { Array($0) })
        // Flipping the type, the flags, the length or the payload breaks the checksum.
        for position in [0, 1, 2, 11] {
            var copy = out
            copy[position] ^= 0x04
            let ok = copy.withUnsafeBytes { buffer -> Bool in
                var scanner = FrameScanner(buffer, from: 0)
                return scanner.next() != nil
            }
            #expect(!ok, "flip at \(position) went unnoticed")
        }
    }

    @Test func footerRoundTrip() {
        let footer = SegmentFooter(
            indexOffset: 1000, indexLength: 70, columnsOffset: 1070, columnsLength: 300, recordCount: 2,
            minID: LogID(high: 1, low: 2), maxID: LogID(high: 3, low: 4))
        var frame: [UInt8] = []
        SegmentFormat.appendFrame(type: .footer, flags: 0, payload: footer.encodePayload(), to: &frame)
        #expect(frame.count == SegmentFormat.footerFrameSize)
        #expect(SegmentFooter.parse(frame: frame) == footer)
        #expect(footer.mayContain(LogID(high: 2, low: 0)))
        #expect(!footer.mayContain(LogID(high: 3, low: 5)))
        frame[20] ^= 1
        #expect(SegmentFooter.parse(frame: frame) == nil)
    }

    /// A footer-shaped frame whose fields say impossible things (a record count whose index would not fit a frame,
    /// offsets whose sums overflow) is not a footer of the file; checking it never traps. Found by
    /// scripts/fuzz-segment-index.sh.
    @Test func footerWithImpossibleFieldsIsInconsistent() {
        let fine = SegmentFooter(
            indexOffset: 1000, indexLength: 70, columnsOffset: 1070, columnsLength: 300, recordCount: 2,
            minID: LogID(high: 1, low: 2), maxID: LogID(high: 3, low: 4))
        #expect(fine.isConsistent(fileSize: 1444, version: 2))
        // The fuzzer's input: offsets back to back, a record count of 989,855,753.
        var payload: [UInt8] = [
            0x10, 0, 0, 0, 0, 0, 0, 0, 0x0A, 0x01, 0, 0, 0x1A, 0x01, 0, 0, 0, 0, 0, 0, 0x0C, 0, 0, 0, 0x09, 0, 0, 0x3B,
        ]
        payload += [UInt8](repeating: 0, count: 32) + SegmentFormat.footerMagic
        var frame: [UInt8] = []
        SegmentFormat.appendFrame(type: .footer, flags: 0, payload: payload, to: &frame)
        guard let found = SegmentFooter.parse(frame: frame) else {
            Issue.record("a footer frame did not parse")
            return
        }
        #expect(found.recordCount == 0x3B00_0009)
        #expect(!found.isConsistent(fileSize: 0x11A + 0x0C + UInt64(SegmentFormat.footerFrameSize), version: 2))
        var overflowing = fine
        overflowing.recordCount = .max
        #expect(!overflowing.isConsistent(fileSize: 1444, version: 2))
        overflowing = fine
        overflowing.indexOffset = .max - 10
        overflowing.columnsOffset = 59
        #expect(!overflowing.isConsistent(fileSize: 59 + 300 + 74, version: 2))
        overflowing = fine
        overflowing.columnsOffset = .max - 100
        overflowing.indexOffset = .max - 170
        #expect(!overflowing.isConsistent(fileSize: 199 + 74, version: 2))
        #expect(!overflowing.isConsistent(fileSize: .max, version: 2))
    }

    @Test func indexBinarySearch() throws {
        let ids = (0..<100).map { LogID(high: UInt64(($0 * 37) % 100), low: 7) }
        let index = SegmentIndex(
            segment: 3, ids: ids, offsets: (0..<100).map { UInt64($0 * 10 + 16) },
            lengths: Array(repeating: 10, count: 100))
        for (row, id) in ids.enumerated() {
            #expect(index.location(of: id) == RecordLocation(segment: 3, offset: UInt64(row * 10 + 16), length: 10))
        }
        #expect(index.location(of: LogID(high: 5, low: 8)) == nil)
        #expect(index.location(of: LogID(high: 1000, low: 0)) == nil)
        let decoded = try index.encode().withUnsafeBytes { try SegmentIndex.decode($0, segment: 3) }
        #expect(decoded == index)
    }

    /// A seal writes its frames as it makes them: the index in pieces, the columns compressed as they are
    /// encoded. What lands in the file is the index, columns and footer frames a reader checks and decodes.
    @Test func sealFramesAreWrittenInPiecesAndReadBack() throws {
        var factory = RecordFactory(seed: 21)
        var builder = ColumnBuilder(segment: 4)
        let rows = SegmentIndex.entriesPerPiece * 2 + 300
        for row in 0..<rows {
            builder.append(
                factory.record(), at: RecordLocation(segment: 4, offset: UInt64(16 + row * 90), length: 90))
        }
        let start = 16 + UInt64(rows) * 90
        var file = [UInt8](repeating: 0, count: Int(start))
        var pieces: [Range<Int>] = []
        let footer = try SegmentWriter.writeSealFrames(
            columns: builder, at: start, version: 2, compressor: SegmentWriter.makeColumnsCompressor(level: 3)
        ) {
            pieces.append(file.count..<(file.count + $0.count))
            file.append(contentsOf: $0)
        }

        var frames: [FrameScanner.Frame] = []
        try file.withUnsafeBytes { raw in
            var scanner = FrameScanner(raw, from: Int(start))
            while let frame = scanner.next() { frames.append(frame) }
            #expect(scanner.stop == .end)
            try #require(frames.count == 3)
            #expect(frames.map(\.header.type) == [FrameType.index, .columns, .footer].map(\.rawValue))
            let index = try SegmentIndex.decode(UnsafeRawBufferPointer(rebasing: raw[frames[0].payload]), segment: 4)
            #expect(
                index == SegmentIndex(segment: 4, ids: builder.ids, offsets: builder.offsets, lengths: builder.lengths))
            let columns = try ZstdDecompressor().decompress(UnsafeRawBufferPointer(rebasing: raw[frames[1].payload]))
            #expect(columns == builder.encode())
            #expect(columns.count == builder.encodedSize)
        }
        // The index frame came in pieces of at most `entriesPerPiece` entries, not whole.
        let indexPieces = pieces.filter {
            $0.lowerBound >= frames[0].payload.lowerBound && $0.upperBound <= frames[0].end
        }
        #expect(indexPieces.count == 3)
        #expect(indexPieces.allSatisfy { $0.count <= 4 + SegmentIndex.entriesPerPiece * SegmentIndex.entrySize })
        #expect(footer.indexOffset == start)
        #expect(footer.columnsOffset == UInt64(frames[1].offset))
        #expect(Int(footer.columnsLength) == frames[1].end - frames[1].offset)
        #expect(footer.recordCount == UInt32(rows))
        #expect(SegmentFooter.parse(frame: Array(file[frames[2].offset...])) == footer)
        #expect(ColumnBuilder(segment: 5).encodedSize == ColumnBuilder(segment: 5).encode().count)
    }

    /// The writer's columns hold rows' values in a stage and encode them a column at a time every 64 rows; whatever
    /// the number of rows, and wherever a reader looks in between, the columns are the rows appended: the same as a
    /// block built row by row, with nil, negative and extreme values, flags, and a prefix cut inside the stage.
    @Test(arguments: [1, 63, 64, 65, 200])
    func stagedColumnsAreTheRowsAppended(rows: Int) throws {
        var factory = RecordFactory(seed: UInt64(rows))
        var builder = ColumnBuilder(segment: 6)
        var appended: [(LogRecord, RecordLocation)] = []
        var copies: [ColumnBuilder] = []
        for row in 0..<rows {
            var record = factory.record()
            if row % 3 == 0 { record.model = nil }
            if row % 5 == 0 { record.ttftMicros = nil }
            if row % 7 == 0 { record.usage.tokensIn = .min }
            if row % 11 == 0 { record.durationMicros = -1 }
            if row % 2 == 0 { record.step = .max }
            record.logged = row % 4 != 0
            record.cached = row % 9 == 0
            let location = RecordLocation(segment: 6, offset: UInt64(16 + row * 100), length: 100)
            builder.append(record, at: location)
            appended.append((record, location))
            if row == rows / 2 { copies.append(builder) }
        }
        func rowsBlock(_ count: Int) -> ColumnBlock {
            var block = ColumnBlock(segment: 6)
            for (record, location) in appended.prefix(count) { block.append(record, at: location) }
            return block
        }
        let block = rowsBlock(rows)
        #expect(try builder.block() == block)
        #expect(builder.encodedSize == builder.encode().count)
        #expect(builder.rowsSet(.logged) == block.flags(.logged).filter { $0 }.count)
        #expect(builder.count == rows)
        var flushed = builder
        flushed.flush()
        #expect(flushed.encode() == builder.encode())
        // A copy taken halfway is unchanged by the rows appended after it.
        let half = try #require(copies.first)
        #expect(try half.block() == rowsBlock(rows / 2 + 1))
        #expect(try builder.prefix(rows / 2 + 1).block() == rowsBlock(rows / 2 + 1))
    }

    @Test func columnBlockRoundTripAndUnknownColumns() throws {
        var factory = RecordFactory(seed: 3)
        var block = ColumnBlock(segment: 9)
        for row in 0..<50 {
            var record = factory.record()
            if row % 7 == 0 {
                record.model = nil
                record.usage = Usage()
                record.ttftMicros = nil
            }
            block.append(record, at: RecordLocation(segment: 9, offset: UInt64(16 + row * 100), length: 100))
        }
        var bytes = block.encode()
        #expect(try bytes.withUnsafeBytes { try ColumnBlock.decode($0, segment: 9) } == block)
        // A column added later (tag 99) is skipped.
        var w = WireWriter()
        w.varint(99)
        w.lengthPrefixed([1, 2, 3])
        bytes.append(contentsOf: w.bytes)
        #expect(try bytes.withUnsafeBytes { try ColumnBlock.decode($0, segment: 9) } == block)
        #expect(block.strings(.model)[0] == nil)
        #expect(block.integers(.tokensIn)[0] == nil && block.integers(.tokensIn)[1] != nil)
    }
}
