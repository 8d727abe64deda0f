import TollgateModel

/// The index frame of a version 3 segment (type 6; FORMAT.md, *Grouped index frame*): the same entries as the
/// fixed index frame — ids sorted, each with its record's location — in about half the bytes.
///
/// A location is named by the record's row (its position in append order) and found through the block table;
/// entries come in groups of `groupSize` in id order, each group opened by a fence (its first id and where its
/// bytes start), so a lookup reads the table and fences, then one group.
///
/// ```
/// count u32 | block_count u32 | block[block_count] | fence[ceil(count / 64)] | group*
/// block = offset u64 | first_row u32                    (the block frame's offset, the row of its slot 0)
/// fence = id_high u64 | id_low u64 | start u32          (the group's first id, its offset in the groups' bytes)
/// entry = row | length varint | id
/// ```
/// A group's first entry gives its row as a varint and no id (the fence has it); each later one its row as a zigzag
/// varint delta from the entry before, and its id as a varint delta of `id_high` from the entry before, followed by
/// `id_low` as a u64 — or, when `id_high` did not change, a varint delta of `id_low`.
enum GroupedIndex {
    static let groupSize = 64
    static let headerSize = 8
    static let blockSize = 12
    static let fenceSize = 20

    static func groupCount(_ count: Int) -> Int { (count + groupSize - 1) / groupSize }

    /// The fewest payload bytes a grouped index of `count` entries takes: what a footer's index length is checked
    /// against, beside being smaller than the fixed frame.
    static func minimumPayloadSize(count: Int) -> Int {
        let groups = groupCount(count)
        return headerSize + (count > 0 ? blockSize : 0) + groups * fenceSize + count * 2 + (count - groups)
    }

    /// The payload for rows in append order (`offsets` version 2 block locations), entries taken in `order` (by
    /// id); nil when the locations are not block locations in append order, or when it would not be smaller than
    /// the fixed index frame and `evenWhenLarger` is false (the writer then writes that one).
    static func encode(
        ids: [LogID], offsets: [UInt64], lengths: [UInt32], order: [UInt32], evenWhenLarger: Bool = false
    ) -> [UInt8]? {
        let count = ids.count
        guard count > 0, offsets.count == count, lengths.count == count, order.count == count else { return nil }
        var blocks: [(offset: UInt64, firstRow: UInt32)] = []
        for row in 0..<count {
            let (block, slot) = SegmentFormat.blockAndSlot(offsets[row])
            if slot == 0 {
                guard blocks.last.map({ $0.offset < block }) ?? true else { return nil }
                blocks.append((block, UInt32(row)))
            } else {
                guard let last = blocks.last, last.offset == block, row - Int(last.firstRow) == slot else { return nil }
            }
        }
        let groups = groupCount(count)
        var entries = WireWriter(capacity: count * 14)
        var fences = WireWriter(capacity: groups * fenceSize)
        var previous = (id: LogID(high: 0, low: 0), row: Int64(0))
        for (position, row32) in order.enumerated() {
            let row = Int(row32)
            let id = ids[row]
            if position % groupSize == 0 {
                fences.u64(id.high)
                fences.u64(id.low)
                fences.u32(UInt32(entries.bytes.count))
                entries.varint(UInt64(row))
            } else {
                entries.zigzag(Int64(row) - previous.row)
            }
            entries.varint(UInt64(lengths[row]))
            if position % groupSize != 0 {
                let highDelta = id.high &- previous.id.high
                entries.varint(highDelta)
                if highDelta == 0 { entries.varint(id.low &- previous.id.low) } else { entries.u64(id.low) }
            }
            previous = (id, Int64(row))
        }
        let size = headerSize + blocks.count * blockSize + fences.bytes.count + entries.bytes.count
        guard evenWhenLarger || size < SegmentIndex.payloadSize(count: count) else { return nil }
        var out = WireWriter(capacity: size)
        out.u32(UInt32(count))
        out.u32(UInt32(blocks.count))
        for block in blocks {
            out.u64(block.offset)
            out.u32(block.firstRow)
        }
        out.raw(fences.bytes)
        out.raw(entries.bytes)
        return out.bytes
    }

    /// The parts before the groups: counts, block table and fences, checked.
    struct Head {
        let count: Int
        let blockOffsets: [UInt64]
        let firstRows: [Int]
        let fenceIDs: [LogID]
        /// Each group's byte range in the groups' bytes (which start at `groupsStart` in the payload).
        let groupStarts: [Int]
        let groupsStart: Int

        /// The bytes the head takes for a payload declaring `count` entries in `blockCount` blocks.
        static func size(count: Int, blockCount: Int) -> Int {
            headerSize + blockCount * blockSize + GroupedIndex.groupCount(count) * fenceSize
        }

        /// Parses the head from the payload's first bytes; `payloadSize` is the whole payload's. Throws `corrupt`
        /// for anything a writer would not have made.
        init(_ bytes: UnsafeRawBufferPointer, payloadSize: Int, segment: UInt32) throws {
            func corrupt(_ what: String) -> SegmentError {
                SegmentError(.corrupt, "grouped index of segment \(segment): \(what)")
            }
            var r = WireReader(bytes)
            let count = Int(try r.u32())
            let blockCount = Int(try r.u32())
            guard count > 0, blockCount > 0, blockCount <= count else {
                throw corrupt("\(count) entries in \(blockCount) blocks")
            }
            guard minimumPayloadSize(count: count) <= payloadSize,
                Head.size(count: count, blockCount: blockCount) <= bytes.count
            else { throw corrupt("\(count) entries do not fit \(payloadSize) bytes") }
            var blockOffsets: [UInt64] = []
            var firstRows: [Int] = []
            blockOffsets.reserveCapacity(blockCount)
            firstRows.reserveCapacity(blockCount)
            for b in 0..<blockCount {
                let offset = try r.u64()
                let firstRow = Int(try r.u32())
                guard offset >= UInt64(SegmentFormat.fileHeaderSize), offset >> (64 - SegmentFormat.slotBits) == 0,
                    blockOffsets.last.map({ $0 < offset }) ?? true,
                    b == 0 ? firstRow == 0 : (firstRow > firstRows[b - 1] && firstRow < count),
                    b == 0 || firstRow - firstRows[b - 1] <= SegmentFormat.maxBlockRecords
                else { throw corrupt("block table entry \(b) out of order") }
                blockOffsets.append(offset)
                firstRows.append(firstRow)
            }
            guard count - firstRows[blockCount - 1] <= SegmentFormat.maxBlockRecords else {
                throw corrupt("last block holds too many records")
            }
            let groups = GroupedIndex.groupCount(count)
            let groupsStart = Head.size(count: count, blockCount: blockCount)
            let groupsBytes = payloadSize - groupsStart
            var fenceIDs: [LogID] = []
            var groupStarts: [Int] = []
            fenceIDs.reserveCapacity(groups)
            groupStarts.reserveCapacity(groups + 1)
            for g in 0..<groups {
                let id = LogID(high: try r.u64(), low: try r.u64())
                let start = Int(try r.u32())
                // Every entry takes at least two bytes, so starts grow strictly.
                guard g == 0 ? start == 0 : (start > groupStarts[g - 1] && !(id < fenceIDs[g - 1])),
                    start < groupsBytes
                else { throw corrupt("fence \(g) out of order") }
                fenceIDs.append(id)
                groupStarts.append(start)
            }
            groupStarts.append(groupsBytes)
            self.count = count
            self.blockOffsets = blockOffsets
            self.firstRows = firstRows
            self.fenceIDs = fenceIDs
            self.groupStarts = groupStarts
            self.groupsStart = groupsStart
        }

        var groupCount: Int { fenceIDs.count }

        /// The location of the record in `row` (append order).
        func location(row: Int, length: UInt32, segment: UInt32) -> RecordLocation {
            var low = 0
            var high = firstRows.count
            while high - low > 1 {
                let mid = (low + high) / 2
                if firstRows[mid] <= row { low = mid } else { high = mid }
            }
            return RecordLocation(
                segment: segment,
                offset: SegmentFormat.blockLocationOffset(block: blockOffsets[low], slot: row - firstRows[low]),
                length: length)
        }

        /// The group a lookup of `id` reads first: the last whose fence is below `id` (or the first group). A
        /// record with `id` is in it, or is the first entry of the next group when that group's fence is `id`.
        func group(of id: LogID) -> Int {
            var low = 0
            var high = fenceIDs.count
            while low < high {
                let mid = (low + high) / 2
                if fenceIDs[mid] < id { low = mid + 1 } else { high = mid }
            }
            return max(0, low - 1)
        }

        /// Decodes group `g` from its bytes (exactly the group's range), calling `body` with each entry's id, row
        /// and length in id order. Throws `corrupt` for bytes a writer would not have made.
        func decodeGroup(
            _ g: Int, bytes: UnsafeRawBufferPointer, segment: UInt32,
            _ body: (LogID, Int, UInt32) throws -> Void
        ) throws {
            func corrupt(_ what: String) -> SegmentError {
                SegmentError(.corrupt, "grouped index of segment \(segment), group \(g): \(what)")
            }
            let entries = Swift.min(groupSize, count - g * groupSize)
            var r = WireReader(bytes)
            var id = fenceIDs[g]
            var row = 0
            for k in 0..<entries {
                if k == 0 {
                    row = Int(truncatingIfNeeded: try r.varint())
                } else {
                    let delta = try r.zigzag()
                    let (next, overflow) = Int64(row).addingReportingOverflow(delta)
                    guard !overflow else { throw corrupt("row out of range") }
                    row = Int(next)
                }
                guard row >= 0, row < count else { throw corrupt("row \(row) out of range") }
                let length = try r.varint()
                guard length <= UInt64(UInt32.max) else { throw corrupt("length out of range") }
                if k > 0 {
                    let highDelta = try r.varint()
                    let (high, overflow) = id.high.addingReportingOverflow(highDelta)
                    guard !overflow else { throw corrupt("id out of range") }
                    if highDelta == 0 {
                        let (low, lowOverflow) = id.low.addingReportingOverflow(try r.varint())
                        guard !lowOverflow else { throw corrupt("id out of range") }
                        id = LogID(high: high, low: low)
                    } else {
                        id = LogID(high: high, low: try r.u64())
                    }
                }
                try body(id, row, UInt32(length))
            }
            guard r.isAtEnd else { throw corrupt("bytes left after its entries") }
        }
    }

    /// The location of the first record with `id`, reading the payload through `read` (bytes at a payload offset,
    /// fewer at its end) a part at a time: the counts, then the block table and fences, then the one or two groups
    /// that may hold `id`. Throws `corrupt` for what it reads that a writer would not have made; the record read at
    /// the location checks itself, and its id is the caller's to compare.
    static func locate(
        _ id: LogID, segment: UInt32, payloadSize: Int, read: (_ count: Int, _ offset: Int) throws -> [UInt8]
    ) throws -> RecordLocation? {
        try locateRow(id, segment: segment, payloadSize: payloadSize, read: read)?.location
    }

    /// `locate`, with the record's row (its place in append order, its row in the segment's columns).
    static func locateRow(
        _ id: LogID, segment: UInt32, payloadSize: Int, read: (_ count: Int, _ offset: Int) throws -> [UInt8]
    ) throws -> (location: RecordLocation, row: Int)? {
        let counts = try read(headerSize, 0)
        guard counts.count == headerSize, payloadSize >= headerSize else {
            throw SegmentError(.corrupt, "grouped index of segment \(segment) ends early")
        }
        let (count, blockCount) = counts.withUnsafeBytes {
            (
                Int(UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self))),
                Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
            )
        }
        let headSize = Head.size(count: count, blockCount: blockCount)
        guard headSize <= payloadSize else {
            throw SegmentError(.corrupt, "grouped index of segment \(segment) declares more than it holds")
        }
        let head = try read(headSize, 0).withUnsafeBytes {
            try Head($0, payloadSize: payloadSize, segment: segment)
        }
        func find(inGroup g: Int) throws -> (location: RecordLocation, row: Int)? {
            let bytes = try read(
                head.groupStarts[g + 1] - head.groupStarts[g], head.groupsStart + head.groupStarts[g])
            var found: (location: RecordLocation, row: Int)?
            try bytes.withUnsafeBytes {
                try head.decodeGroup(g, bytes: $0, segment: segment) { entry, row, length in
                    if found == nil, entry == id {
                        found = (head.location(row: row, length: length, segment: segment), row)
                    }
                }
            }
            return found
        }
        let g = head.group(of: id)
        if let found = try find(inGroup: g) { return found }
        if g + 1 < head.groupCount, head.fenceIDs[g + 1] == id { return try find(inGroup: g + 1) }
        return nil
    }

    /// Decodes a whole grouped index payload, checked: ids sorted, every row named once.
    static func decode(_ payload: UnsafeRawBufferPointer, segment: UInt32) throws -> SegmentIndex {
        var ids: [LogID] = []
        var offsets: [UInt64] = []
        var lengths: [UInt32] = []
        try forEachEntry(payload, segment: segment) { head in
            ids.reserveCapacity(head.count)
            offsets.reserveCapacity(head.count)
            lengths.reserveCapacity(head.count)
        } _: { id, location in
            ids.append(id)
            offsets.append(location.offset)
            lengths.append(location.length)
        }
        return SegmentIndex(segment: segment, sortedIDs: ids, offsets: offsets, lengths: lengths)
    }

    /// Each row's id and location, in row (append) order, from a whole grouped index payload checked as `decode`
    /// checks it: what a version 3 columns frame leaves out.
    static func positions(
        _ payload: UnsafeRawBufferPointer, segment: UInt32
    ) throws -> (ids: [LogID], offsets: [UInt64], lengths: [UInt32]) {
        var ids: [LogID] = []
        var offsets: [UInt64] = []
        var lengths: [UInt32] = []
        try forEachEntry(payload, segment: segment) { head in
            ids = Array(repeating: LogID(high: 0, low: 0), count: head.count)
            offsets = Array(repeating: 0, count: head.count)
            lengths = Array(repeating: 0, count: head.count)
        } _: { id, location in
            let row = location.row
            ids[row] = id
            offsets[row] = location.offset
            lengths[row] = location.length
        }
        return (ids, offsets, lengths)
    }

    /// Calls `start` with the head, then `body` with every entry in id order (its id, row and location), checking
    /// that ids are sorted and that every row is named once (so every row is named).
    private static func forEachEntry(
        _ payload: UnsafeRawBufferPointer, segment: UInt32, _ start: (Head) -> Void,
        _ body: (LogID, (row: Int, offset: UInt64, length: UInt32)) throws -> Void
    ) throws {
        let head = try Head(payload, payloadSize: payload.count, segment: segment)
        start(head)
        var seen = [Bool](repeating: false, count: head.count)
        var last: LogID?
        for g in 0..<head.groupCount {
            let range = (head.groupsStart + head.groupStarts[g])..<(head.groupsStart + head.groupStarts[g + 1])
            try head.decodeGroup(g, bytes: UnsafeRawBufferPointer(rebasing: payload[range]), segment: segment) {
                id, row, length in
                guard !seen[row] else {
                    throw SegmentError(.corrupt, "grouped index of segment \(segment) names row \(row) twice")
                }
                if let last, id < last {
                    throw SegmentError(.corrupt, "grouped index of segment \(segment) is not sorted at group \(g)")
                }
                seen[row] = true
                last = id
                try body(id, (row, head.location(row: row, length: length, segment: segment).offset, length))
            }
        }
    }
}
