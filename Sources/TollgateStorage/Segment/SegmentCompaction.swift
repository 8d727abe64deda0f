import Glibc
import TollgateModel

/// Compacting a sealed segment without the content of its deleted logs (see FORMAT.md, *Compaction*): a segment
/// that still holds a live log is rewritten; one whose logs are all deleted is dropped whole, its usage records
/// kept in a usage archive (`UsageArchive`).
///
/// The rewrite keeps the segment's number, so the order of records across segments — which the rollups'
/// checkpoint position relies on — never changes. Live records are copied frame for frame (same compressed bytes,
/// same dictionary); a deleted log's record becomes its usage record (`LogRecord.usageRecord`): what billing needs,
/// without path, headers, bodies, metadata or error. The new file is written beside the old one as
/// `<seq>.seg.compact`, fsynced, and renamed over it only after the catalog committed the new locations.
enum SegmentCompaction {
    /// What compacting one segment comes to.
    enum Outcome {
        /// Some log of the segment is live: the segment is rewritten.
        case rewrite(Rewrite)
        /// Every log of the segment is deleted: the segment is dropped and its usage records archived.
        case drop(Drop)
    }

    /// A segment to drop whole, its archive written (pending) beside the other archives.
    struct Drop {
        var segment: UInt32
        var bytesBefore: UInt64
        /// Size of the usage archive.
        var bytes: UInt64
        /// Requests archived.
        var records: Int
        /// Deleted logs that are now usage records.
        var purged: [LogKey] = []
    }

    /// The rewritten file of one segment, ready to be committed and installed.
    struct Rewrite {
        var segment: UInt32
        var footer: SegmentFooter
        var bytes: UInt64
        var bytesBefore: UInt64
        /// Live logs whose record frame moved.
        var relocated: [(key: LogKey, location: RecordLocation)] = []
        /// Deleted logs that are now usage records.
        var purged: [LogKey] = []
        var firstCreatedAt: Int64?
        var lastCreatedAt: Int64?
    }

    static let suffix = ".compact"

    static func temporaryPath(_ segmentsPath: String, _ segment: UInt32) -> String {
        segmentsPath + "/" + SegmentFormat.fileName(segment) + suffix
    }

    /// Compacts the sealed segment `segment`, whose deleted logs are `purge`. When every logged record of it is
    /// in `purge`, writes its pending usage archive (`UsageArchive.Builder.writePending`); otherwise writes
    /// `<segment>.seg.compact`: the segment with every logged record named in `purge` replaced by its usage
    /// record. Either file is complete and fsynced (its folder too) on return.
    static func compact(segment: UInt32, reader: SegmentReader, purge: Set<LogKey>) throws -> Outcome {
        guard let footer = try reader.footer(of: segment) else {
            throw SegmentError(.notSealed, "segment \(segment) is not sealed; only sealed segments are compacted")
        }
        let file = try reader.file(segment)
        let size = try file.size()
        let header = try SegmentFormat.parseVersionedFileHeader(
            file.read(count: SegmentFormat.fileHeaderSize, at: 0))
        guard let header, header.sequence == segment else {
            throw SegmentError(.corrupt, "segment \(segment) has no valid header")
        }
        if header.version >= 2 {
            return try compactBlocks(
                segment: segment, version: header.version, reader: reader, purge: purge, footer: footer, size: size)
        }
        var out = RewriteFile(path: temporaryPath(reader.segmentsPath, segment), segment: segment)
        var columns = ColumnBuilder(segment: segment)
        var result = Rewrite(
            segment: segment, footer: footer, bytes: 0, bytesBefore: size)
        let compressor = try usageCompressor(reader.dictionariesPath)
        let columnsCompressor = try SegmentWriter.makeColumnsCompressor(level: 3)
        // Adds one record to the rewritten file: a live record or a usage record as its frame was, a deleted log
        // as its usage record in a new frame.
        func emit(_ record: LogRecord, frame: UnsafeRawBufferPointer, purged key: LogKey?) throws {
            let offset = out.offset
            let length: Int
            if let key {
                let encoded = RecordCodec.encode(record)
                let compressed = try compressor.compress(encoded)
                let stored = compressed.count < encoded.count
                length = try out.appendFrame(
                    flags: stored ? SegmentFormat.flagCompressed : 0, payload: stored ? compressed : encoded)
                result.purged.append(key)
            } else {
                try out.append(frame)
                length = frame.count
            }
            let location = RecordLocation(segment: segment, offset: offset, length: UInt32(length))
            columns.append(record, at: location)
            result.firstCreatedAt = min(result.firstCreatedAt ?? record.createdAt, record.createdAt)
            result.lastCreatedAt = max(result.lastCreatedAt ?? record.createdAt, record.createdAt)
        }
        // While no live log has been met, the segment may be dropped: its records are only collected, encoded as
        // usage records with their old locations (`archivedDeleted` says which were deleted logs). The first live
        // log turns the collection into the rewritten file's first records (their frames read again by location).
        var archive: UsageArchive.Builder? = UsageArchive.Builder(segment: segment)
        var archivedDeleted: [Bool] = []
        var archivedPurged: [LogKey] = []
        try FrameScanner.forEachFrame(in: file, from: UInt64(SegmentFormat.fileHeaderSize), to: footer.indexOffset) {
            frameOffset, header, frame, payload in
            guard header.type == FrameType.record.rawValue else { return }
            let record = try reader.decodeRecord(flags: header.flags, payload: payload)
            let key = LogKey(account: record.account, id: record.id)
            let deleted = record.logged && purge.contains(key)
            let live = record.logged && !deleted
            if !live, archive != nil {
                archive?.append(
                    deleted ? record.usageRecord : record,
                    at: RecordLocation(segment: segment, offset: frameOffset, length: UInt32(frame.count)))
                archivedDeleted.append(deleted)
                if deleted { archivedPurged.append(key) }
                return
            }
            if let collected = archive {
                archive = nil
                for (entry, wasDeleted) in zip(try collected.entries(), archivedDeleted) {
                    let bytes = try file.read(count: Int(entry.location.length), at: entry.location.offset)
                    try bytes.withUnsafeBytes {
                        try emit(
                            entry.record, frame: $0,
                            purged: wasDeleted ? LogKey(account: entry.record.account, id: entry.record.id) : nil)
                    }
                }
                archivedDeleted = []
                archivedPurged = []
            }
            let offset = out.offset
            try emit(deleted ? record.usageRecord : record, frame: frame, purged: deleted ? key : nil)
            if live && offset != frameOffset {
                result.relocated.append(
                    (key, RecordLocation(segment: segment, offset: offset, length: UInt32(frame.count))))
            }
        }
        columns.flush()
        return try finish(
            segment: segment, version: 1, size: size, reader: reader, archive: archive, purged: archivedPurged,
            out: &out, columns: columns, compressor: columnsCompressor, result: result)
    }

    /// The end of a pass, for either format: a segment left with usage records only becomes a usage archive and is
    /// dropped; otherwise the rewritten file gets its columns and footer, and the directory is synced.
    private static func finish(
        segment: UInt32, version: UInt8, size: UInt64, reader: SegmentReader, archive: UsageArchive.Builder?,
        purged: [LogKey],
        out: inout RewriteFile, columns: ColumnBuilder, compressor: ZstdCompressor, result: Rewrite
    ) throws -> Outcome {
        if let archive {
            let bytes = try archive.writePending(directory: reader.directory)
            return .drop(
                Drop(
                    segment: segment, bytesBefore: size, bytes: UInt64(bytes), records: archive.count,
                    purged: purged))
        }
        var result = result
        let newFooter = try SegmentWriter.writeSealFrames(
            columns: columns, at: out.offset, version: version, compressor: compressor
        ) {
            try out.append($0)
        }
        result.bytes = try out.finish()
        try SegmentDirectory.sync(reader.segmentsPath)
        result.footer = newFooter
        return .rewrite(result)
    }

    /// The rewritten file of a segment, written as it is made (through a buffer of a few MB), so a rewrite never
    /// holds the whole new segment. Created at the first write: a segment that is dropped never gets one.
    struct RewriteFile {
        let path: String
        private var file: SegmentFile?
        private var buffer: [UInt8] = []
        private var written: UInt64 = 0
        static let flushBytes = 4 << 20

        init(path: String, segment: UInt32, version: UInt8 = 1) {
            self.path = path
            buffer = SegmentFormat.fileHeader(sequence: segment, version: version)
        }

        /// Where the next byte goes in the file.
        var offset: UInt64 { written + UInt64(buffer.count) }

        mutating func append(_ bytes: UnsafeRawBufferPointer) throws {
            buffer.append(contentsOf: bytes)
            if buffer.count >= Self.flushBytes { try flush() }
        }

        mutating func appendFrame(type: FrameType = .record, flags: UInt8, payload: [UInt8]) throws -> Int {
            let length = SegmentFormat.appendFrame(type: type, flags: flags, payload: payload, to: &buffer)
            if buffer.count >= Self.flushBytes { try flush() }
            return length
        }

        /// Writes what is buffered and fsyncs the file. Returns its size.
        mutating func finish() throws -> UInt64 {
            try flush()
            try file?.sync()
            return written
        }

        private mutating func flush() throws {
            if file == nil {
                try SegmentDirectory.remove(path)
                file = try SegmentFile.create(path)
            }
            try file?.write(buffer, at: written)
            written += UInt64(buffer.count)
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// A compressor for usage records: with the store's newest dictionary (trained on its own records, so the
    /// names and field keys a usage record repeats compress well), without one when the store has none. Only
    /// finished `<id>.dict` files are read; the writer may be adding one meanwhile.
    static func usageCompressor(_ dictionariesPath: String) throws -> ZstdCompressor {
        guard access(dictionariesPath, F_OK) == 0 else { return try ZstdCompressor(level: 3) }
        let newest = try SegmentDirectory.list(dictionariesPath).compactMap { name -> UInt32? in
            guard name.hasSuffix(".dict") else { return nil }
            return UInt32(name.dropLast(5))
        }.max()
        guard let newest else { return try ZstdCompressor(level: 3) }
        return try ZstdCompressor(
            level: 3, dictionary: SegmentDictionaries.load(newest, from: dictionariesPath))
    }

    /// Renames the rewritten file of `segment` over the old one (atomic) and fsyncs `segments/`. Returns false
    /// when there is no rewritten file (it was renamed already).
    @discardableResult
    static func install(segment: UInt32, segmentsPath: String) throws -> Bool {
        let temp = temporaryPath(segmentsPath, segment)
        guard access(temp, F_OK) == 0 else { return false }
        guard rename(temp, segmentsPath + "/" + SegmentFormat.fileName(segment)) == 0 else {
            throw SegmentError.system("rename", path: temp)
        }
        try SegmentDirectory.sync(segmentsPath)
        return true
    }

    /// Deletes rewritten files no committed compaction names (a crash before the commit): the old file stays the
    /// truth.
    static func removeUncommitted(segmentsPath: String) throws {
        try SegmentDirectory.removeFiles(in: segmentsPath, endingWith: ".seg" + suffix)
    }
}

extension SegmentCompaction {
    /// `compact` for a version 2 segment: block by block. A block without a deleted log is copied as it is; a block
    /// with one is decoded, its deleted logs replaced by their usage records (same slots) and compressed again with
    /// the newest dictionary. Until a live log is met, blocks are only collected for a possible drop.
    static func compactBlocks(
        segment: UInt32, version: UInt8, reader: SegmentReader, purge: Set<LogKey>, footer: SegmentFooter,
        size: UInt64
    ) throws -> Outcome {
        let file = try reader.file(segment)
        var out = RewriteFile(path: temporaryPath(reader.segmentsPath, segment), segment: segment, version: version)
        var columns = ColumnBuilder(segment: segment, groupRows: SegmentFormat.columnGroupRows(version: version))
        var result = Rewrite(segment: segment, footer: footer, bytes: 0, bytesBefore: size)
        let compressor = try usageCompressor(reader.dictionariesPath)
        let columnsCompressor = try SegmentWriter.makeColumnsCompressor(level: 3)
        // Version 4: blocks hold payload parts, the records' metadata is in the columns (and goes to the new ones).
        let part: RecordCodec.Part = version >= 4 ? .payload : .whole
        let metadata = version >= 4 ? try reader.blockMetadata(segment, sealed: true) : nil

        func isDeleted(_ record: LogRecord) -> Bool {
            record.logged && purge.contains(LogKey(account: record.account, id: record.id))
        }
        // Adds one block to the rewritten file: as it was, or with its deleted logs as usage records.
        func emit(blockAt oldOffset: UInt64, frame: UnsafeRawBufferPointer, records: [(record: LogRecord, length: Int)])
            throws
        {
            let offset = out.offset
            var kept = records
            if records.contains(where: { isDeleted($0.record) }) {
                var block = RecordBlock()
                for (slot, entry) in records.enumerated() where isDeleted(entry.record) {
                    let usage = entry.record.usageRecord
                    kept[slot] = (usage, RecordCodec.encode(usage, part: part).count)
                    result.purged.append(LogKey(account: entry.record.account, id: entry.record.id))
                }
                for entry in kept { block.append(RecordCodec.encode(entry.record, part: part)) }
                let content = block.encode()
                let compressed = try compressor.compress(content)
                let stored = compressed.count < content.count
                _ = try out.appendFrame(
                    type: .block, flags: stored ? SegmentFormat.flagCompressed : 0,
                    payload: stored ? compressed : content)
            } else {
                try out.append(frame)
            }
            for (slot, entry) in kept.enumerated() {
                let location = RecordLocation(
                    segment: segment, offset: SegmentFormat.blockLocationOffset(block: offset, slot: slot),
                    length: UInt32(entry.length))
                columns.append(entry.record, at: location)
                if entry.record.logged && offset != oldOffset {
                    result.relocated.append((LogKey(account: entry.record.account, id: entry.record.id), location))
                }
                result.firstCreatedAt = min(result.firstCreatedAt ?? entry.record.createdAt, entry.record.createdAt)
                result.lastCreatedAt = max(result.lastCreatedAt ?? entry.record.createdAt, entry.record.createdAt)
            }
        }
        func decode(_ header: FrameHeader, _ payload: UnsafeRawBufferPointer, at offset: UInt64) throws -> [(
            record: LogRecord, length: Int
        )] {
            let content = try RecordBlock.content(flags: header.flags, payload: payload) { try reader.decompress($0) }
            let blockMetadata = try metadata?.forBlock(at: offset)
            return try content.withUnsafeBytes { try RecordBlock.decodeAll($0, metadata: blockMetadata) }
        }

        var archive: UsageArchive.Builder? = UsageArchive.Builder(segment: segment)
        var archivedBlocks: [(offset: UInt64, length: Int)] = []
        var archivedPurged: [LogKey] = []
        try FrameScanner.forEachFrame(in: file, from: UInt64(SegmentFormat.fileHeaderSize), to: footer.indexOffset) {
            frameOffset, header, frame, payload in
            guard header.type == FrameType.block.rawValue else { return }
            let records = try decode(header, payload, at: frameOffset)
            let live = records.contains { $0.record.logged && !isDeleted($0.record) }
            if !live, archive != nil {
                for (slot, entry) in records.enumerated() {
                    let deleted = isDeleted(entry.record)
                    archive?.append(
                        deleted ? entry.record.usageRecord : entry.record,
                        at: RecordLocation(
                            segment: segment, offset: SegmentFormat.blockLocationOffset(block: frameOffset, slot: slot),
                            length: UInt32(entry.length)))
                    if deleted { archivedPurged.append(LogKey(account: entry.record.account, id: entry.record.id)) }
                }
                archivedBlocks.append((frameOffset, frame.count))
                return
            }
            if archive != nil {
                archive = nil
                // The segment is rewritten after all: the blocks collected so far come first.
                for block in archivedBlocks {
                    let bytes = try file.read(count: block.length, at: block.offset)
                    try bytes.withUnsafeBytes { buffer in
                        guard let header = FrameHeader.parse(buffer), header.frameLength == buffer.count else {
                            throw SegmentError(.corrupt, "segment \(segment): no block at \(block.offset)")
                        }
                        let payload = UnsafeRawBufferPointer(rebasing: buffer[SegmentFormat.frameHeaderSize...])
                        guard header.verifies(header: buffer, payload: payload) else {
                            throw SegmentError(.corrupt, "segment \(segment): block at \(block.offset) does not verify")
                        }
                        try emit(
                            blockAt: block.offset, frame: buffer, records: try decode(header, payload, at: block.offset)
                        )
                    }
                }
                archivedBlocks = []
                archivedPurged = []
            }
            try emit(blockAt: frameOffset, frame: frame, records: records)
        }
        columns.flush()
        return try finish(
            segment: segment, version: version, size: size, reader: reader, archive: archive,
            purged: archivedPurged, out: &out, columns: columns, compressor: columnsCompressor, result: result)
    }
}

extension LogRecord {
    /// What a request's record keeps once its log is deleted or expired: what usage, costs and reports need (id,
    /// times, account, gateway, provider, model, method, status, success, stream, durations, token usage and
    /// service tier, custom cost, cached, refusal), as a usage record (`logged == false`). Path, headers, bodies,
    /// metadata, error, sizes and the event, attempt and step go.
    public var usageRecord: LogRecord {
        var usage = LogRecord(
            id: id, createdAt: createdAt, account: account, gateway: gateway, provider: provider, model: model,
            path: "", method: method, statusCode: statusCode, success: success, stream: stream,
            durationMicros: durationMicros, ttftMicros: ttftMicros, usage: usage, requestSize: 0, responseSize: 0,
            error: nil, metadata: [], requestHeaders: [], responseHeaders: [], requestBody: [], responseBody: [],
            payloadStored: false, customCost: customCost, logged: false, cached: cached)
        usage.refusal = refusal
        return usage
    }
}

extension SegmentReader {
    /// Drops what is cached about `segment` (descriptor, footer, index): its file was replaced.
    func forget(segment: UInt32) {
        state.withLock { s in
            s.files[segment] = nil
            s.footers[segment] = nil
            s.indexes[segment] = nil
            s.versions[segment] = nil
            s.indexOrder.removeAll { $0 == segment }
            s.recordColumns.removeAll { $0.segment == segment }
            s.journals[segment] = nil
        }
    }
}
