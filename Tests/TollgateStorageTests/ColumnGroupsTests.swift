import Glibc
import Testing
import TollgateModel

@testable import TollgateStorage

/// Format version 5: a sealed segment's columns in row groups, each compressed alone, so one record's read
/// decompresses its row's group only.
@Suite("Segment format version 5")
struct ColumnGroupsTests {
    func configuration(groupRows: Int = 32) -> SegmentWriter.Configuration {
        var c = SegmentWriter.Configuration()
        c.formatVersion = 5
        c.columnGroupRows = groupRows
        c.dictionarySampleRecords = 40
        c.blockRecords = 16
        return c
    }

    func reader(_ dir: TemporaryDirectory) -> SegmentReader { SegmentReader(directory: dir.path) }

    func records(_ count: Int, seed: UInt64) -> [LogRecord] { JournalFormatTests().variedRecords(count, seed: seed) }

    /// The columns frame of sealed segment `segment`: its header's flags and its payload.
    func columnsFrame(_ dir: TemporaryDirectory, _ segment: UInt32) throws -> (flags: UInt8, payload: [UInt8]) {
        let reader = SegmentReader(directory: dir.path)
        let footer = try #require(try reader.footer(of: segment))
        let bytes = try reader.file(segment).read(count: Int(footer.columnsLength), at: footer.columnsOffset)
        return (bytes[1], Array(bytes[SegmentFormat.frameHeaderSize...]))
    }

    /// Rows cut into groups read back as the same rows in one group: values, string columns with each group's own
    /// dictionary, flags counted across groups, `created_at` deltas restarting in each group.
    @Test func groupedColumnsReadAsOneGroupReadsThem() throws {
        let records = records(70, seed: 41)
        var grouped = ColumnBuilder(segment: 3, groupRows: 16)
        var whole = ColumnBuilder(segment: 3)
        for (i, record) in records.enumerated() {
            let location = RecordLocation(segment: 3, offset: UInt64(16 + i / 8) << 16 | UInt64(i % 8), length: 9)
            grouped.append(record, at: location)
            whole.append(record, at: location)
        }
        #expect(grouped.groupContents().count == 5)
        #expect(try grouped.block() == whole.block())
        #expect(grouped.rowsSet(.logged) == whole.rowsSet(.logged))
        #expect(grouped.rowsSet(.stream) == whole.rowsSet(.stream))
        for field in [RecordField.model, .gateway, .provider, .account] {
            #expect(Set(grouped.values(field)) == Set(whole.values(field)))
        }
        // Each group's row, read alone, is the row of the whole.
        let block = try whole.block()
        for (g, content) in grouped.groupContents().enumerated() {
            let rows = min(16, records.count - g * 16)
            for k in 0..<rows {
                let row = g * 16 + k
                let one = try content.withUnsafeBytes {
                    try ColumnBlock.decodeRow($0, row: k, id: records[row].id, rows: rows)
                }
                #expect(one == block.metadataRecord(row: row))
            }
        }
        // A cut-back builder and one group again.
        #expect(try grouped.prefix(37).block() == whole.prefix(37).block())
        #expect(try grouped.ungrouped().block() == whole.block())
    }

    /// A sealed version 5 segment holds a grouped columns frame; every record reads back through a fresh reader
    /// (its row's group alone), and the whole columns decode to what the records say.
    @Test func aSealedSegmentReadsBackARecordFromItsGroup() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let records = records(300, seed: 42)
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        let locations = try records.map { try writer.append($0) }
        try writer.close()

        let frame = try columnsFrame(dir, 1)
        #expect(frame.flags & SegmentFormat.flagCompressed == 0)
        let head = try frame.payload.withUnsafeBytes { try ColumnGroups.Head($0, payloadSize: frame.payload.count) }
        #expect(head.rowCount == 300 && head.groupRows == 32 && head.count == 10)

        for (location, record) in zip(locations, records) {
            #expect(try SegmentReader(directory: dir.path).read(location) == record)
        }
        // Through the index read a part at a time: the record's row, and the record read from it.
        for (row, record) in records.enumerated() where row % 7 == 0 {
            let reader = SegmentReader(directory: dir.path)
            let found = try #require(try reader.locateRow(record.id, in: 1))
            #expect(found.location == locations[row] && found.row == row)
            #expect(try reader.read(found.location, row: row, id: record.id) == record)
        }
        let reader = SegmentReader(directory: dir.path)
        var expected = ColumnBlock(segment: 1)
        for (location, record) in zip(locations, records) { expected.append(record, at: location) }
        #expect(try reader.columns(of: 1) == expected)
        try reader.verify(segment: 1)
    }

    /// A group whose bytes changed fails its own checksum: a record of it is not read, a record of another group
    /// still is, and the whole frame fails its frame checksum.
    @Test func aDamagedGroupFailsItsChecksumAlone() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let records = records(100, seed: 43)
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        let locations = try records.map { try writer.append($0) }
        try writer.close()

        let reader = SegmentReader(directory: dir.path)
        let footer = try #require(try reader.footer(of: 1))
        let frame = try columnsFrame(dir, 1)
        let head = try frame.payload.withUnsafeBytes { try ColumnGroups.Head($0, payloadSize: frame.payload.count) }
        // Flip a byte in the middle of group 1 (rows 32..<64).
        let at =
            footer.columnsOffset + UInt64(SegmentFormat.frameHeaderSize)
            + UInt64((head.range(of: 1).lowerBound + head.range(of: 1).upperBound) / 2)
        let path = dir.segments + "/" + SegmentFormat.fileName(1)
        let fd = open(path, O_RDWR)
        var byte: UInt8 = 0
        _ = pread(fd, &byte, 1, off_t(at))
        byte ^= 0x40
        _ = pwrite(fd, &byte, 1, off_t(at))
        close(fd)

        #expect(throws: SegmentError.self) { try SegmentReader(directory: dir.path).read(locations[40]) }
        #expect(try SegmentReader(directory: dir.path).read(locations[10]) == records[10])
        #expect(try SegmentReader(directory: dir.path).read(locations[80]) == records[80])
        #expect(throws: SegmentError.self) { try SegmentReader(directory: dir.path).columns(of: 1) }
    }

    /// A segment of one record has a grouped index even though a fixed one would be smaller (its columns never
    /// hold positions), and its footer passes for a seal.
    @Test func aOneRecordSegmentSealsWithAGroupedIndex() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let record = records(1, seed: 44)[0]
        let writer = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        let location = try writer.append(record)
        try writer.close()
        let reader = SegmentReader(directory: dir.path)
        let footer = try #require(try reader.footer(of: 1))
        #expect(Int(footer.indexLength) > SegmentFormat.frameHeaderSize + SegmentIndex.payloadSize(count: 1))
        #expect(try reader.read(location) == record)
        #expect(try reader.find(record.id, in: 1)?.record == record)
        try reader.verify(segment: 1)
        // The store opens on it as on any sealed segment.
        let reopened = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        #expect(reopened.activeSegment == 2)
        try reopened.close()
    }

    /// A version 4 tail is continued in version 4 and sealed with one columns frame; the next segment is version 5;
    /// both read back.
    @Test func aVersion4TailRotatesIntoVersion5() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let first = records(50, seed: 45)
        var old = configuration()
        old.formatVersion = 4
        let writer = try SegmentWriter(directory: dir.path, configuration: old, logger: quietLogger)
        let firstLocations = try first.map { try writer.append($0) }
        try writer.close(seal: false)
        let reopened = try SegmentWriter(directory: dir.path, configuration: configuration(), logger: quietLogger)
        let more = records(5, seed: 46)
        let moreLocations = try more.map { try reopened.append($0) }
        try reopened.rotate()
        let second = records(40, seed: 47)
        let secondLocations = try second.map { try reopened.append($0) }
        try reopened.close()

        #expect(try reader(dir).version(of: 1) == 4 && reader(dir).version(of: 2) == 5)
        #expect(try columnsFrame(dir, 1).flags & SegmentFormat.flagCompressed != 0)
        #expect(try columnsFrame(dir, 2).flags & SegmentFormat.flagCompressed == 0)
        let reader = SegmentReader(directory: dir.path)
        for (location, record) in zip(firstLocations + moreLocations + secondLocations, first + more + second) {
            #expect(try reader.read(location) == record)
        }
        for segment in try reader.segments() { try reader.verify(segment: segment) }
    }
}
