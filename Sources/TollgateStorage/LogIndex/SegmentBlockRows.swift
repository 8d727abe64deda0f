/// Where each record block of a version 2 segment starts in the segment's rows (append order, which its columns
/// and costs follow): a record's row from its location alone, `offset = block_offset << 16 | slot` (FORMAT.md,
/// "Record location in a version 2 segment"), with no column decoded.
struct SegmentBlockRows: Sendable, Equatable {
    /// Block offsets in file order, and the row of each block's first record.
    private var blocks: [UInt64] = []
    private var firstRows: [Int] = []

    /// From a segment's record offsets in row order; nil unless they are version 2 locations (each block's slots
    /// 0, 1, 2, … in order, blocks in file order).
    init?(offsets: [UInt64]) {
        for (row, offset) in offsets.enumerated() {
            let block = offset >> 16
            let slot = Int(offset & 0xFFFF)
            if let last = blocks.last, block == last {
                guard slot == row - firstRows[firstRows.count - 1] else { return nil }
            } else {
                guard slot == 0, blocks.last.map({ $0 < block }) ?? true else { return nil }
                blocks.append(block)
                firstRows.append(row)
            }
        }
    }

    /// The row of the record at `offset`; nil when no block starts there.
    func row(of offset: UInt64) -> Int? {
        let block = offset >> 16
        var low = 0
        var high = blocks.count
        while low < high {
            let mid = (low + high) / 2
            if blocks[mid] < block { low = mid + 1 } else { high = mid }
        }
        guard low < blocks.count, blocks[low] == block else { return nil }
        return firstRows[low] + Int(offset & 0xFFFF)
    }

    /// The `sealed_segments.blocks` encoding: per block, its offset minus the previous one, then its record count.
    func encoded(rows: Int) -> [UInt8] {
        var w = WireWriter(capacity: blocks.count * 4)
        var previous: UInt64 = 0
        for (i, block) in blocks.enumerated() {
            w.varint(block - previous)
            previous = block
            w.varint(UInt64((i + 1 < firstRows.count ? firstRows[i + 1] : rows) - firstRows[i]))
        }
        return w.bytes
    }

    init(encoded bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { raw in
            var r = WireReader(raw)
            var block: UInt64 = 0
            var row = 0
            while !r.isAtEnd {
                let delta = try r.varint()
                let count = try r.varint()
                guard delta > 0 || blocks.isEmpty, count > 0, count <= 0x1_0000 else {
                    throw SegmentError(.corrupt, "sealed segment block rows out of order")
                }
                block += delta
                blocks.append(block)
                firstRows.append(row)
                row += Int(count)
            }
        }
    }
}
