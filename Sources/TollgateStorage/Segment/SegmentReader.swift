import Synchronization
import TollgateModel

/// Reads records, indexes and column blocks from the segment files. Thread-safe: `pread` on cached file
/// descriptors; caches are behind a mutex and I/O happens outside it.
///
/// Every record returned has passed its frame checksum and decoded completely; anything else is an error.
public final class SegmentReader: Sendable {
    public let directory: String
    let segmentsPath: String
    let dictionariesPath: String
    let maxOpenFiles: Int
    let maxCachedIndexes: Int

    struct State {
        var files: [UInt32: SegmentFile] = [:]
        /// Footers of sealed segments (a sealed file never changes).
        var footers: [UInt32: SegmentFooter] = [:]
        var indexes: [UInt32: SegmentIndex] = [:]
        /// Format versions of segment files (from their headers; a segment keeps its version when compacted).
        var versions: [UInt32: UInt8] = [:]
        var indexOrder: [UInt32] = []
        var dictionaries: [UInt32: ZstdDecompressionDictionary] = [:]
        /// Version 4: the decoded columns of the sealed segments records were last read from (newest last), and the
        /// journals of active segments as last read.
        var recordColumns: [(segment: UInt32, columns: ColumnBlock)] = []
        var journals: [UInt32: SegmentJournal.Contents] = [:]
        var decompressors: [PooledDecompressor] = []
    }

    let state = Mutex(State())

    /// - Parameters:
    ///   - directory: the store's data folder (the one holding `segments/` and `dicts/`).
    ///   - maxOpenFiles: descriptors kept open at most.
    ///   - maxCachedIndexes: sealed segment indexes kept in memory at most.
    public init(directory: String, maxOpenFiles: Int = 64, maxCachedIndexes: Int = 16) {
        self.directory = directory
        self.segmentsPath = directory + "/" + SegmentFormat.segmentsDirectory
        self.dictionariesPath = directory + "/" + SegmentFormat.dictionariesDirectory
        self.maxOpenFiles = max(1, maxOpenFiles)
        self.maxCachedIndexes = max(1, maxCachedIndexes)
    }

    /// The sequence numbers of the segment files present, ascending.
    public func segments() throws -> [UInt32] {
        try SegmentDirectory.list(segmentsPath).compactMap(SegmentFormat.sequence(fromFileName:)).sorted()
    }

    /// Reads the record at `location`: checks the frame's length, type and checksum, decompresses and decodes. In
    /// a version 2 segment, reads the block frame the location names and decodes the record in its slot only.
    ///
    /// `metadata`, when given, is the record's metadata as the caller already holds it (a log's index entry, from the
    /// same columns): a version 4 segment's read then takes only the payload part from the block, without finding
    /// the record's row in the segment's columns. Other versions hold whole records and ignore it.
    public func read(_ location: RecordLocation, metadata: LogRecord? = nil) throws -> LogRecord {
        guard location.offset >= UInt64(SegmentFormat.fileHeaderSize) else {
            throw SegmentError(.invalidArgument, "invalid record location \(location)")
        }
        if try version(of: location.segment) >= 2 { return try readFromBlock(location, metadata: metadata) }
        guard location.length >= UInt32(SegmentFormat.frameHeaderSize),
            Int(location.length) <= SegmentFormat.maxPayload + SegmentFormat.frameHeaderSize,
            location.offset >= UInt64(SegmentFormat.fileHeaderSize)
        else { throw SegmentError(.invalidArgument, "invalid record location \(location)") }
        let file = try file(location.segment)
        let bytes = try file.read(count: Int(location.length), at: location.offset)
        guard bytes.count == Int(location.length) else {
            throw SegmentError(.notFound, "segment \(location.segment) ends before \(location)")
        }
        return try bytes.withUnsafeBytes { buffer in
            guard let header = FrameHeader.parse(buffer), header.frameLength == buffer.count,
                header.verifies(
                    header: buffer, payload: UnsafeRawBufferPointer(rebasing: buffer[SegmentFormat.frameHeaderSize...]))
            else { throw SegmentError(.corrupt, "frame at \(location) does not verify") }
            guard header.type == FrameType.record.rawValue else {
                throw SegmentError(.corrupt, "frame at \(location) is not a record (type \(header.type))")
            }
            return try decodeRecord(
                flags: header.flags, payload: UnsafeRawBufferPointer(rebasing: buffer[SegmentFormat.frameHeaderSize...])
            )
        }
    }

    /// The footer of a sealed segment, nil while the segment is not sealed.
    public func footer(of segment: UInt32) throws -> SegmentFooter? {
        if let cached = state.withLock({ $0.footers[segment] }) { return cached }
        let file = try file(segment)
        let size = try file.size()
        guard size >= UInt64(SegmentFormat.fileHeaderSize + SegmentFormat.footerFrameSize) else { return nil }
        let bytes = try file.read(
            count: SegmentFormat.footerFrameSize, at: size - UInt64(SegmentFormat.footerFrameSize))
        guard let footer = SegmentFooter.parse(frame: bytes),
            footer.isConsistent(fileSize: size, version: try version(of: segment))
        else { return nil }
        state.withLock { $0.footers[segment] = footer }
        return footer
    }

    /// The index of a sealed segment (verified once, then cached).
    public func index(of segment: UInt32) throws -> SegmentIndex {
        if let cached = state.withLock({ $0.indexes[segment] }) { return cached }
        guard let footer = try footer(of: segment) else {
            throw SegmentError(.notSealed, "segment \(segment) is not sealed; it has no index")
        }
        let index = try readFrame(
            segment, offset: footer.indexOffset, length: footer.indexLength, types: [.index, .groupedIndex]
        ) { type, payload in
            try SegmentIndex.decode(payload, type: type, segment: segment)
        }
        state.withLock { s in
            if s.indexes[segment] == nil {
                s.indexes[segment] = index
                s.indexOrder.append(segment)
                while s.indexOrder.count > maxCachedIndexes { s.indexes[s.indexOrder.removeFirst()] = nil }
            }
        }
        return index
    }

    /// The column block of a sealed segment (read from its columns frame, not from the records; in a version 3
    /// segment, each row's id and location from its grouped index).
    public func columns(of segment: UInt32) throws -> ColumnBlock {
        guard let footer = try footer(of: segment) else {
            throw SegmentError(.notSealed, "segment \(segment) is not sealed; ask the writer for its columns")
        }
        return try readFrame(segment, offset: footer.columnsOffset, length: footer.columnsLength, type: .columns) {
            try ColumnBlock.decode(
                $0, segment: segment,
                positions: { _ in
                    // A version 3 segment's columns leave each row's id and location to its grouped index.
                    try self.readFrame(
                        segment, offset: footer.indexOffset, length: footer.indexLength, type: .groupedIndex
                    ) { try GroupedIndex.positions($0, segment: segment) }
                }, decompress: { try self.decompress($0) })
        }
    }

    /// Finds a record by id in a sealed segment through its index, without scanning records.
    public func find(_ id: LogID, in segment: UInt32) throws -> (location: RecordLocation, record: LogRecord)? {
        guard let footer = try footer(of: segment) else {
            throw SegmentError(.notSealed, "segment \(segment) is not sealed; it has no index")
        }
        guard footer.mayContain(id), let location = try index(of: segment).location(of: id) else { return nil }
        let record = try read(location)
        guard record.id == id else { throw SegmentError(.corrupt, "index of segment \(segment) points at another id") }
        return (location, record)
    }

    /// The location of the first record with this id in a sealed segment, by a binary search over its index frame
    /// read a few entries at a time, without reading (or checking) the whole frame: for a single lookup in a
    /// segment whose index is not in memory. The record read at the location checks itself, and its id must be
    /// compared by the caller: a damaged entry can only point at another record.
    public func locate(_ id: LogID, in segment: UInt32) throws -> RecordLocation? {
        try locateRow(id, in: segment)?.location
    }

    /// `locate`, with the record's row (its place in append order) when a grouped index read a part at a time
    /// names it, nil otherwise: what `read(_:row:id:)` takes.
    func locateRow(_ id: LogID, in segment: UInt32) throws -> (location: RecordLocation, row: Int?)? {
        if let cached = state.withLock({ $0.indexes[segment] }) { return cached.location(of: id).map { ($0, nil) } }
        guard let footer = try footer(of: segment), footer.mayContain(id) else { return nil }
        let file = try file(segment)
        let head = try file.read(count: SegmentFormat.frameHeaderSize, at: footer.indexOffset)
        guard let header = head.withUnsafeBytes({ FrameHeader.parse($0) }),
            header.frameLength == Int(footer.indexLength)
        else { throw SegmentError(.corrupt, "segment \(segment): no index frame at \(footer.indexOffset)") }
        if header.type == FrameType.groupedIndex.rawValue {
            return try locateGrouped(id, in: segment, file: file, footer: footer).map { ($0.location, $0.row) }
        }
        guard header.type == FrameType.index.rawValue else {
            throw SegmentError(.corrupt, "segment \(segment): no index frame at \(footer.indexOffset)")
        }
        let entries = UInt64(SegmentFormat.frameHeaderSize) + 4
        let count = (UInt64(footer.indexLength) &- entries) / UInt64(SegmentIndex.entrySize)
        func entry(_ i: UInt64) throws -> (id: LogID, offset: UInt64, length: UInt32) {
            let bytes = try file.read(
                count: SegmentIndex.entrySize, at: footer.indexOffset + entries + i * UInt64(SegmentIndex.entrySize))
            guard bytes.count == SegmentIndex.entrySize else {
                throw SegmentError(.corrupt, "index of segment \(segment) ends early")
            }
            return bytes.withUnsafeBytes { raw in
                (
                    LogID(
                        high: UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self)),
                        low: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))),
                    UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
                    UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt32.self))
                )
            }
        }
        var low: UInt64 = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if try entry(mid).id < id { low = mid + 1 } else { high = mid }
        }
        guard low < count else { return nil }
        let found = try entry(low)
        guard found.id == id else { return nil }
        return (RecordLocation(segment: segment, offset: found.offset, length: found.length), nil)
    }

    /// Finds a record by id in any sealed segment (footer id ranges first, then the indexes), newest first.
    public func find(_ id: LogID) throws -> (location: RecordLocation, record: LogRecord)? {
        for segment in try segments().reversed() {
            guard let footer = try footer(of: segment), footer.mayContain(id) else { continue }
            if let found = try find(id, in: segment) { return found }
        }
        return nil
    }

    /// Calls `body` with every record of a segment in file order. For a sealed segment, the records before its
    /// index; for the active one, every frame written so far (an incomplete last frame is the end). A frame that
    /// does not verify is an error.
    public func forEachRecord(in segment: UInt32, _ body: (RecordLocation, LogRecord) throws -> Void) throws {
        let file = try file(segment)
        let footer = try footer(of: segment)
        let end = try footer?.indexOffset ?? file.size()
        let bytes = try file.read(count: Int(end), at: 0)
        guard try SegmentFormat.parseFileHeader(bytes) == segment else {
            throw SegmentError(.corrupt, "segment \(segment) has no valid header")
        }
        // Version 4: the records' metadata, from the columns (sealed) or the journal (active).
        let metadata = try version(of: segment) >= 4 ? try blockMetadata(segment, sealed: footer != nil) : nil
        try bytes.withUnsafeBytes { buffer in
            var scanner = FrameScanner(buffer, from: SegmentFormat.fileHeaderSize)
            while let frame = scanner.next() {
                if frame.header.type == FrameType.block.rawValue {
                    let content = try RecordBlock.content(
                        flags: frame.header.flags, payload: UnsafeRawBufferPointer(rebasing: buffer[frame.payload])
                    ) { try decompress($0) }
                    let records = try content.withUnsafeBytes {
                        try RecordBlock.decodeAll($0, metadata: metadata?.forBlock(at: UInt64(frame.offset)))
                    }
                    for (slot, (record, length)) in records.enumerated() {
                        try body(
                            RecordLocation(
                                segment: segment,
                                offset: SegmentFormat.blockLocationOffset(block: UInt64(frame.offset), slot: slot),
                                length: UInt32(length)),
                            record)
                    }
                    continue
                }
                guard frame.header.type == FrameType.record.rawValue else { continue }
                let record = try decodeRecord(
                    flags: frame.header.flags, payload: UnsafeRawBufferPointer(rebasing: buffer[frame.payload]))
                try body(
                    RecordLocation(
                        segment: segment, offset: UInt64(frame.offset), length: UInt32(frame.header.frameLength)),
                    record)
            }
            switch scanner.stop {
            case .end?, nil: break
            case .torn?:
                if footer != nil { throw SegmentError(.corrupt, "segment \(segment) is torn at \(scanner.position)") }
            case .badChecksum?:
                throw SegmentError(.corrupt, "segment \(segment): frame at \(scanner.position) does not verify")
            }
        }
    }

    /// Forgets cached descriptors, footers and indexes (e.g. after segments were deleted).
    public func reset() {
        state.withLock { s in
            s.files = [:]
            s.footers = [:]
            s.indexes = [:]
            s.versions = [:]
            s.indexOrder = []
            s.recordColumns = []
            s.journals = [:]
        }
    }
}
