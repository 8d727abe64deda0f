/// The payload of a grouped columns frame (FORMAT.md, *Format version 5*): a head with the row count, the rows of a
/// group and each group's length and checksum, then the groups, each a zstd frame of a version 1 columns content of
/// its rows. One record's read takes the head and its row's group only.
enum ColumnGroups {
    /// The payload's first byte (a version 1 content starts with 1).
    static let version: UInt8 = 2
    /// Version, row count, rows of a group, group count.
    static let fixedHeadSize = 13
    /// A group's length and CRC-32C.
    static let entrySize = 8

    /// `ceil(rows / groupRows)`.
    static func groupCount(rows: Int, groupRows: Int) -> Int { rows == 0 ? 0 : (rows - 1) / groupRows + 1 }

    /// The size of the head of a frame of `groups` groups, its checksum included: where the groups start.
    static func headSize(groups: Int) -> Int { fixedHeadSize + groups * entrySize + 4 }

    /// The size of the head that starts `bytes`, from its group count; nil when `bytes` are shorter than the fixed
    /// part.
    static func headSize(of bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= fixedHeadSize else { return nil }
        var r = WireReader(UnsafeRawBufferPointer(rebasing: bytes[(fixedHeadSize - 4)..<fixedHeadSize]))
        return (try? r.u32()).map { headSize(groups: Int($0)) }
    }

    /// The head of a frame of `rows` rows, `groupRows` a group, whose groups' compressed bytes are `groups`.
    static func head(rows: Int, groupRows: Int, groups: [[UInt8]]) -> [UInt8] {
        precondition(groups.count == groupCount(rows: rows, groupRows: groupRows))
        var w = WireWriter(capacity: headSize(groups: groups.count))
        w.u8(version)
        w.u32(UInt32(rows))
        w.u32(UInt32(clamping: groupRows))
        w.u32(UInt32(groups.count))
        for group in groups {
            w.u32(UInt32(group.count))
            w.u32(group.withUnsafeBytes { CRC32C.checksum($0) })
        }
        w.u32(w.bytes.withUnsafeBytes { CRC32C.checksum($0) })
        return w.bytes
    }

    /// A grouped frame's head, read and checked: its checksum, and group lengths that add up to the payload.
    struct Head {
        let rowCount: Int
        let groupRows: Int
        /// Where each group starts in the payload, and where the last ends.
        private let starts: [Int]
        private let checksums: [UInt32]

        var count: Int { checksums.count }

        /// Parses the head at the start of `bytes` (at least `headSize` of it) of a payload of `payloadSize` bytes.
        init(_ bytes: UnsafeRawBufferPointer, payloadSize: Int) throws {
            var r = WireReader(bytes)
            guard try r.u8() == ColumnGroups.version else {
                throw SegmentError(.corrupt, "not a grouped columns frame")
            }
            let rows = Int(try r.u32())
            let groupRows = Int(try r.u32())
            let groups = Int(try r.u32())
            guard groupRows >= 1, groups == ColumnGroups.groupCount(rows: rows, groupRows: groupRows),
                ColumnGroups.headSize(groups: groups) <= payloadSize
            else {
                throw SegmentError(.corrupt, "columns frame of \(rows) rows in \(groups) groups of \(groupRows)")
            }
            var starts = [ColumnGroups.headSize(groups: groups)]
            var checksums: [UInt32] = []
            starts.reserveCapacity(groups + 1)
            checksums.reserveCapacity(groups)
            for _ in 0..<groups {
                starts.append(starts[starts.count - 1] + Int(try r.u32()))
                checksums.append(try r.u32())
            }
            let checksum = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<r.position]))
            guard try r.u32() == checksum else { throw SegmentError(.corrupt, "columns frame head does not verify") }
            guard starts[groups] == payloadSize else {
                throw SegmentError(.corrupt, "column groups end at \(starts[groups]) of \(payloadSize) bytes")
            }
            self.rowCount = rows
            self.groupRows = groupRows
            self.starts = starts
            self.checksums = checksums
        }

        /// Where group `g` is in the payload.
        func range(of g: Int) -> Range<Int> { starts[g]..<starts[g + 1] }

        /// The group holding row `row` and the row's position in it.
        func group(ofRow row: Int) -> (group: Int, row: Int) { (row / groupRows, row % groupRows) }

        /// The rows of group `g`.
        func rows(of g: Int) -> Int { Swift.min(groupRows, rowCount - g * groupRows) }

        /// Checks group `g`'s bytes against its checksum.
        func verify(_ bytes: UnsafeRawBufferPointer, group g: Int) throws {
            guard CRC32C.checksum(bytes) == checksums[g] else {
                throw SegmentError(.corrupt, "column group \(g) does not verify")
            }
        }
    }
}
