import Glibc
import TollgateModel

/// Version 4 (FORMAT.md, *Format version 4*): a block holds its records' payload parts; their metadata is in the
/// segment's columns once it is sealed, in its journal until then.
extension SegmentReader {
    /// Where the metadata of a version 4 segment's blocks is, for reading all of them in file order.
    enum SegmentMetadata {
        case columns(ColumnBlock)
        case journal(SegmentJournal.Contents)

        /// The metadata of the block frame at `offset`. Throws `corrupt` when there is none.
        func forBlock(at offset: UInt64) throws -> any BlockMetadata {
            switch self {
            case .columns(let columns):
                let rows = columns.rows(ofBlockAt: offset)
                guard !rows.isEmpty else {
                    throw SegmentError(
                        .corrupt, "segment \(columns.segment): no columns rows for the block at \(offset)")
                }
                return ColumnRows(columns: columns, rows: rows)
            case .journal(let journal):
                guard let entry = journal.frame(forBlockAt: offset) else {
                    throw SegmentError(.corrupt, "no metadata in the journal for the block at \(offset)")
                }
                return entry.frame
            }
        }
    }

    /// The metadata of a version 4 segment's blocks: its columns when `sealed`, else its journal as it is now.
    func blockMetadata(_ segment: UInt32, sealed: Bool) throws -> SegmentMetadata {
        if sealed { return .columns(try recordColumns(segment)) }
        guard let journal = try readJournal(segment) else {
            // Sealed meanwhile: the seal deletes the journal after the footer is durable.
            guard try footer(of: segment) != nil else {
                throw SegmentError(.notFound, "active segment \(segment) has no journal")
            }
            return .columns(try recordColumns(segment))
        }
        return .journal(journal)
    }

    /// The metadata of the record at `location` (a version 4 block location), for reading that record alone: from
    /// the journal while its segment is active; once sealed, its row of the columns, found through the segment's
    /// index and read without decoding the other rows (`ColumnBlock.decodeRow`).
    func blockMetadata(for location: RecordLocation) throws -> any BlockMetadata {
        let segment = location.segment
        let (block, slot) = SegmentFormat.blockAndSlot(location.offset)
        guard try footer(of: segment) != nil else {
            if let entry = state.withLock({ $0.journals[segment]?.frame(forBlockAt: block) }) { return entry.frame }
            // A block written after the journal was last read, or a segment sealed meanwhile.
            switch try blockMetadata(segment, sealed: false) {
            case .journal(let journal):
                return try SegmentMetadata.journal(journal).forBlock(at: block)
            case .columns:
                return try blockMetadata(for: location)
            }
        }
        if let cached = cachedColumns(segment) {
            return try SegmentMetadata.columns(cached).forBlock(at: block)
        }
        // The row: the records before the block's, then the slot (locations rise with rows); the block's record
        // count and the record's id on the way.
        let index = try index(of: segment)
        let blockStart = SegmentFormat.blockLocationOffset(block: block, slot: 0)
        let blockEnd = SegmentFormat.blockLocationOffset(block: block + 1, slot: 0)
        var before = 0
        var inBlock = 0
        var id: LogID?
        for (k, offset) in index.offsets.enumerated() {
            if offset < blockStart {
                before += 1
            } else if offset < blockEnd {
                inBlock += 1
                if offset == location.offset { id = index.ids[k] }
            }
        }
        guard let id else {
            throw SegmentError(.corrupt, "segment \(segment): the index has no record at \(location)")
        }
        let footer = try self.footer(of: segment)!
        return OneRow(
            count: inBlock, slot: slot,
            metadata: try rowMetadata(before + slot, id: id, segment: segment, footer: footer))
    }

    /// The record at `location` of a sealed segment whose index names it log `id` in row `row` (`locateRow`): in a
    /// version 4 or 5 segment, its metadata from that row of the columns, without the index's other entries.
    func read(_ location: RecordLocation, row: Int, id: LogID) throws -> LogRecord {
        let segment = location.segment
        guard try version(of: segment) >= 4, let footer = try footer(of: segment) else { return try read(location) }
        if let cached = cachedColumns(segment) {
            guard row < cached.count, cached.ids[row] == id else {
                throw SegmentError(.corrupt, "segment \(segment): row \(row) is not log \(id)")
            }
            return try read(location, metadata: cached.metadataRecord(row: row))
        }
        return try read(location, metadata: rowMetadata(row, id: id, segment: segment, footer: footer))
    }

    /// Row `row` of a sealed version 4 or 5 segment's columns as a metadata record of log `id`: from its group
    /// alone when the columns are grouped, else walked to in the whole frame.
    private func rowMetadata(_ row: Int, id: LogID, segment: UInt32, footer: SegmentFooter) throws -> LogRecord {
        if let record = try groupedRow(row, id: id, segment: segment, footer: footer) { return record }
        return try readFrame(segment, offset: footer.columnsOffset, length: footer.columnsLength, type: .columns) {
            try ColumnBlock.decodeRow($0, row: row, id: id)
        }
    }

    /// Row `row` of a sealed segment's grouped columns frame (FORMAT.md, *Format version 5*), read from its head
    /// and the row's group alone, each checked by its own checksum; nil when the frame is not grouped.
    private func groupedRow(_ row: Int, id: LogID, segment: UInt32, footer: SegmentFooter) throws -> LogRecord? {
        let file = try file(segment)
        let frameLength = Int(footer.columnsLength)
        let header = SegmentFormat.frameHeaderSize
        // The frame header and the head of a frame of up to 64 groups (65,536 rows of 1,024) in one read.
        var head = try file.read(
            count: min(frameLength, header + ColumnGroups.headSize(groups: 64)), at: footer.columnsOffset)
        guard head.count > header, head[0] == FrameType.columns.rawValue,
            head[1] & SegmentFormat.flagCompressed == 0, head[header] == ColumnGroups.version
        else { return nil }
        let payloadSize = frameLength - header
        let headSize = head.withUnsafeBytes {
            ColumnGroups.headSize(of: UnsafeRawBufferPointer(rebasing: $0[header...]))
        }
        if let headSize, header + headSize > head.count, headSize <= payloadSize {
            head = try file.read(count: header + headSize, at: footer.columnsOffset)
        }
        let groups = try head.withUnsafeBytes {
            try ColumnGroups.Head(UnsafeRawBufferPointer(rebasing: $0[header...]), payloadSize: payloadSize)
        }
        guard row < groups.rowCount else {
            throw SegmentError(.corrupt, "segment \(segment): columns have \(groups.rowCount) rows, no row \(row)")
        }
        let (g, inGroup) = groups.group(ofRow: row)
        let range = groups.range(of: g)
        let bytes = try file.read(
            count: range.count, at: footer.columnsOffset + UInt64(header) + UInt64(range.lowerBound))
        return try bytes.withUnsafeBytes { compressed in
            try groups.verify(compressed, group: g)
            return try decompress(compressed).withUnsafeBytes {
                try ColumnBlock.decodeRow($0, row: inGroup, id: id, rows: groups.rows(of: g))
            }
        }
    }

    /// The decoded columns of `segment` when `recordColumns` keeps them.
    private func cachedColumns(_ segment: UInt32) -> ColumnBlock? {
        state.withLock { s in s.recordColumns.first { $0.segment == segment }?.columns }
    }

    /// The columns of a sealed version 4 segment, decoded once and kept for the next reads (the two segments read
    /// last).
    private func recordColumns(_ segment: UInt32) throws -> ColumnBlock {
        if let cached = cachedColumns(segment) {
            return cached
        }
        let decoded = try columns(of: segment)
        state.withLock { s in
            s.journals[segment] = nil
            guard !s.recordColumns.contains(where: { $0.segment == segment }) else { return }
            s.recordColumns.append((segment, decoded))
            if s.recordColumns.count > 2 { s.recordColumns.removeFirst() }
        }
        return decoded
    }

    /// Reads an active segment's journal (and keeps it for the next reads); nil when there is none.
    private func readJournal(_ segment: UInt32) throws -> SegmentJournal.Contents? {
        let path = segmentsPath + "/" + SegmentJournal.fileName(segment)
        let bytes: [UInt8]
        do {
            bytes = try SegmentDirectory.readWhole(path)
        } catch let error as SegmentError where error.errno == ENOENT {
            return nil
        }
        let contents = bytes.withUnsafeBytes { SegmentJournal.contents($0, sequence: segment) }
        state.withLock { $0.journals[segment] = contents }
        return contents
    }
}

extension ColumnBlock {
    /// The rows of the records of the version 2 block frame at `offset` (their locations' offsets rise with the
    /// rows).
    func rows(ofBlockAt offset: UInt64) -> Range<Int> {
        let start = SegmentFormat.blockLocationOffset(block: offset, slot: 0)
        let end = SegmentFormat.blockLocationOffset(block: offset + 1, slot: 0)
        return offsets.partitionPoint { $0 >= start }..<offsets.partitionPoint { $0 >= end }
    }
}

/// The rows of a sealed version 4 segment's columns that hold a block's records' metadata.
struct ColumnRows: BlockMetadata {
    let columns: ColumnBlock
    let rows: Range<Int>

    var count: Int? { rows.count }

    func record(slot: Int, payload: UnsafeRawBufferPointer) throws -> LogRecord {
        var record = columns.metadataRecord(row: rows.lowerBound + slot)
        try RecordCodec.decode(payload: payload, into: &record)
        return record
    }
}

/// One record's metadata, from its row of a sealed version 4 segment's columns (or given by the reader's caller,
/// `count` nil): what a read of that record alone needs of its block's metadata.
struct OneRow: BlockMetadata {
    let count: Int?
    let slot: Int
    let metadata: LogRecord

    func record(slot: Int, payload: UnsafeRawBufferPointer) throws -> LogRecord {
        guard slot == self.slot else { throw SegmentError(.corrupt, "the metadata of slot \(self.slot), not \(slot)") }
        var record = metadata
        try RecordCodec.decode(payload: payload, into: &record)
        return record
    }
}
