import Synchronization
import TollgateModel

/// A decompressor lent to one reading thread at a time by the reader's pool.
// @unchecked Sendable: a pooled decompressor is only ever used by the caller that took it out of the pool (under
// the reader's mutex) until it puts it back, so its context is never used by two threads at once.
final class PooledDecompressor: @unchecked Sendable {
    let decompressor: ZstdDecompressor
    init() throws { decompressor = try ZstdDecompressor() }
}

extension SegmentReader {
    /// A cached descriptor for a segment file.
    func file(_ segment: UInt32) throws -> SegmentFile {
        if let open = state.withLock({ $0.files[segment] }) { return open }
        let opened = try SegmentFile.openForReading(segmentsPath + "/" + SegmentFormat.fileName(segment))
        return state.withLock { s in
            if let raced = s.files[segment] { return raced }
            if s.files.count >= maxOpenFiles, let victim = s.files.keys.first { s.files[victim] = nil }
            s.files[segment] = opened
            return opened
        }
    }

    /// The format version of a segment file, from its header (read once, then cached).
    func version(of segment: UInt32) throws -> UInt8 {
        if let known = state.withLock({ $0.versions[segment] }) { return known }
        let bytes = try file(segment).read(count: SegmentFormat.fileHeaderSize, at: 0)
        guard let header = try SegmentFormat.parseVersionedFileHeader(bytes), header.sequence == segment else {
            throw SegmentError(.corrupt, "segment \(segment) has no valid header")
        }
        state.withLock { $0.versions[segment] = header.version }
        return header.version
    }

    /// Version 2: reads the block frame a location names (its header, then the frame), verifies it, decompresses
    /// it and decodes the record in the location's slot.
    func readFromBlock(_ location: RecordLocation, metadata given: LogRecord? = nil) throws -> LogRecord {
        let (blockOffset, slot) = SegmentFormat.blockAndSlot(location.offset)
        guard blockOffset >= UInt64(SegmentFormat.fileHeaderSize) else {
            throw SegmentError(.invalidArgument, "invalid record location \(location)")
        }
        let file = try file(location.segment)
        let head = try file.read(count: SegmentFormat.frameHeaderSize, at: blockOffset)
        guard let header = head.withUnsafeBytes({ FrameHeader.parse($0) }) else {
            throw SegmentError(.notFound, "segment \(location.segment) ends before \(location)")
        }
        guard header.type == FrameType.block.rawValue else {
            throw SegmentError(.corrupt, "frame at \(location) is not a block (type \(header.type))")
        }
        let bytes = try file.read(count: header.frameLength, at: blockOffset)
        guard bytes.count == header.frameLength else {
            throw SegmentError(.notFound, "segment \(location.segment) ends before \(location)")
        }
        var metadata: (any BlockMetadata)?
        if try version(of: location.segment) >= 4 {
            let slot = SegmentFormat.blockAndSlot(location.offset).slot
            metadata = try given.map { OneRow(count: nil, slot: slot, metadata: $0) } ?? blockMetadata(for: location)
        }
        do {
            return try bytes.withUnsafeBytes {
                try RecordBlock.decodeFrame($0, slot: slot, length: Int(location.length), metadata: metadata) {
                    try decompress($0)
                }
            }
        } catch let error as SegmentError where error.code == .corrupt {
            throw SegmentError(.corrupt, "block at \(location): \(error.message)", cause: error)
        }
    }

    /// Reads and verifies a whole frame of the given type, decompressing it if flagged, and decodes it.
    func readFrame<T>(
        _ segment: UInt32, offset: UInt64, length: UInt32, type: FrameType,
        _ decode: (UnsafeRawBufferPointer) throws -> T
    ) throws -> T {
        try readFrame(segment, offset: offset, length: length, types: [type]) { _, payload in try decode(payload) }
    }

    /// Reads and verifies a whole frame of one of the given types, decompressing it if flagged, and decodes it
    /// knowing its type.
    func readFrame<T>(
        _ segment: UInt32, offset: UInt64, length: UInt32, types: [FrameType],
        _ decode: (FrameType, UnsafeRawBufferPointer) throws -> T
    ) throws -> T {
        let file = try file(segment)
        let bytes = try file.read(count: Int(length), at: offset)
        let expected = types.map { "\($0)" }.joined(separator: " or ")
        return try bytes.withUnsafeBytes { buffer in
            guard let header = FrameHeader.parse(buffer), header.frameLength == buffer.count,
                let type = types.first(where: { $0.rawValue == header.type })
            else { throw SegmentError(.corrupt, "segment \(segment): no \(expected) frame at \(offset)") }
            let payload = UnsafeRawBufferPointer(rebasing: buffer[SegmentFormat.frameHeaderSize...])
            guard header.verifies(header: buffer, payload: payload) else {
                throw SegmentError(.corrupt, "segment \(segment): \(type) frame at \(offset) does not verify")
            }
            if header.isCompressed {
                let content = try decompress(payload)
                return try content.withUnsafeBytes { try decode(type, $0) }
            }
            return try decode(type, payload)
        }
    }

    /// `locateRow` in a grouped index frame (version 3), read from the file a part at a time.
    func locateGrouped(_ id: LogID, in segment: UInt32, file: SegmentFile, footer: SegmentFooter) throws
        -> (location: RecordLocation, row: Int)?
    {
        let payloadOffset = footer.indexOffset + UInt64(SegmentFormat.frameHeaderSize)
        return try GroupedIndex.locateRow(
            id, segment: segment, payloadSize: Int(footer.indexLength) - SegmentFormat.frameHeaderSize
        ) { count, at in try file.read(count: count, at: payloadOffset + UInt64(at)) }
    }

    func decodeRecord(flags: UInt8, payload: UnsafeRawBufferPointer) throws -> LogRecord {
        try RecordFrame.decode(flags: flags, payload: payload) { try decompress($0) }
    }

    /// Decompresses a zstd frame with a pooled context and the dictionary it names (loaded from `dicts/` once).
    func decompress(_ frame: UnsafeRawBufferPointer) throws -> [UInt8] {
        let id: UInt32
        do {
            id = try ZstdDecompressor.dictionaryID(ofFrame: frame)
        } catch {
            throw SegmentError(.corrupt, "payload is not a zstd frame", cause: error)
        }
        let dictionary = id == 0 ? nil : try dictionary(id)
        let pooled = try state.withLock { s in s.decompressors.popLast() } ?? PooledDecompressor()
        defer { state.withLock { s in s.decompressors.append(pooled) } }
        do {
            return try pooled.decompressor.decompress(frame, dictionary: dictionary)
        } catch {
            throw SegmentError(.corrupt, "zstd frame does not decompress", cause: error)
        }
    }

    func dictionary(_ id: UInt32) throws -> ZstdDecompressionDictionary {
        if let known = state.withLock({ $0.dictionaries[id] }) { return known }
        let loaded: ZstdDictionary
        do {
            loaded = try SegmentDictionaries.load(id, from: dictionariesPath)
        } catch let error as SegmentError where error.code == .notFound {
            throw SegmentError(.notFound, "zstd dictionary \(id) is missing from dicts/", cause: error)
        }
        let digested = try ZstdDecompressionDictionary(loaded)
        return state.withLock { s in
            if let raced = s.dictionaries[id] { return raced }
            s.dictionaries[id] = digested
            return digested
        }
    }
}
