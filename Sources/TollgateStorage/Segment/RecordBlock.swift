import TollgateModel

/// The content of a version 2 block frame (see FORMAT.md, *Format version 2*): `count varint | record_length
/// varint [count] | record encoding [count]`.
///
/// Records are encoded in place, after room left for the count and the lengths, which are written there when the
/// block closes: the content is compressed where it was made, without a copy of each encoding or of the whole.
struct RecordBlock {
    /// Room before the encodings for the count and lengths: 1,024 records (the writer's default limit) of under
    /// 16 KiB each take 2,050 bytes. A longer prefix is put together in a copy (`withContent`).
    static let prefixRoom = 4_096

    /// `prefixRoom` bytes, the encodings back to back in append order from there to `end`, then the staged
    /// encoding (if any) and spare room. Grows, never shrinks.
    private var storage: [UInt8]
    private var end = RecordBlock.prefixRoom
    /// The length of each encoding.
    private(set) var lengths: [Int] = []
    /// The length of the encoding staged at `end`, not part of the block yet.
    private var staged = 0
    /// Version 4 (`stage(_:split:)`): the records' metadata parts back to back, for the journal, while `storage`
    /// holds their payload parts; a staged part after `metadataEnd`.
    private var metadata: [UInt8] = []
    private var metadataEnd = 0
    private(set) var stagedMetadata = 0
    /// The length of each metadata part.
    private var metadataLengths: [Int] = []

    var count: Int { lengths.count }
    var isEmpty: Bool { lengths.isEmpty }
    /// Bytes of record encodings held.
    var rawBytes: Int { end - Self.prefixRoom }

    init(capacity: Int = 0) {
        storage = [UInt8](repeating: 0, count: Self.prefixRoom + capacity)
    }

    /// Adds one record encoding; returns its slot.
    @discardableResult
    mutating func append(_ encoding: [UInt8]) -> Int {
        reserve(encoding.count)
        let start = end
        storage.withUnsafeMutableBytes { raw in
            encoding.withUnsafeBytes { bytes in
                guard let source = bytes.baseAddress else { return }
                raw.baseAddress!.advanced(by: start).copyMemory(from: source, byteCount: bytes.count)
            }
        }
        staged = encoding.count
        return commitStaged()
    }

    /// Encodes `record` after the block's encodings without adding it yet (`stage(_:)` for a pointer).
    mutating func stage(_ record: LogRecord) -> Int {
        withUnsafePointer(to: record) { stage($0) }
    }

    /// Encodes the record `record` points to after the block's encodings without adding it yet (`commitStaged` adds
    /// it); returns the encoding's length. A later `stage` replaces it; `removeAll` keeps it.
    ///
    /// With `split` (a version 4 segment), the block gets the record's payload part and the length returned is
    /// its; the metadata part is staged beside it for the journal (`metadataFrame`).
    mutating func stage(_ record: UnsafePointer<LogRecord>, split: Bool = false) -> Int {
        let bound = RecordCodec.sizeBound(record)
        reserve(bound)
        let start = end
        staged = storage.withUnsafeMutableBufferPointer { all in
            var w = BoundedWriter(UnsafeMutableBufferPointer(rebasing: all[start..<(start + bound)]))
            RecordCodec.encode(record, into: &w, part: split ? .payload : .whole)
            return w.count
        }
        stagedMetadata = 0
        if split {
            let needed = metadataEnd + bound
            if metadata.count < needed {
                metadata.append(contentsOf: repeatElement(0, count: max(needed, metadata.count * 2) - metadata.count))
            }
            let from = metadataEnd
            stagedMetadata = metadata.withUnsafeMutableBufferPointer { all in
                var w = BoundedWriter(UnsafeMutableBufferPointer(rebasing: all[from..<(from + bound)]))
                RecordCodec.encode(record, into: &w, part: .metadata)
                return w.count
            }
        }
        return staged
    }

    /// The staged encoding's bytes.
    func withStaged<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[end..<(end + staged)])) }
    }

    /// Adds the staged encoding; returns its slot.
    mutating func commitStaged() -> Int {
        end += staged
        lengths.append(staged)
        staged = 0
        if stagedMetadata > 0 {
            metadataEnd += stagedMetadata
            metadataLengths.append(stagedMetadata)
            stagedMetadata = 0
        }
        return lengths.count - 1
    }

    /// Empties the block, keeping a staged encoding (moved to the front).
    mutating func removeAll() {
        if staged > 0 && end != Self.prefixRoom {
            let (from, length) = (end, staged)
            storage.withUnsafeMutableBytes { raw in
                let base = raw.baseAddress!
                (base + Self.prefixRoom).copyMemory(from: base + from, byteCount: length)
            }
        }
        end = Self.prefixRoom
        lengths.removeAll(keepingCapacity: true)
        if stagedMetadata > 0 && metadataEnd != 0 {
            let (from, length) = (metadataEnd, stagedMetadata)
            metadata.withUnsafeMutableBytes { raw in
                let base = raw.baseAddress!
                base.copyMemory(from: base + from, byteCount: length)
            }
        }
        metadataEnd = 0
        metadataLengths.removeAll(keepingCapacity: true)
    }

    /// Version 4: the content of the journal's metadata frame for this block, whose frame starts at `blockOffset`
    /// (FORMAT.md, *Format version 4*): `block_offset | count | part_length [count] | metadata part [count]`.
    func metadataFrame(blockOffset: UInt64) -> [UInt8] {
        var w = WireWriter(capacity: 24 + 3 * metadataLengths.count + metadataEnd)
        w.varint(blockOffset)
        w.varint(UInt64(metadataLengths.count))
        for length in metadataLengths { w.varint(UInt64(length)) }
        metadata.withUnsafeBytes { w.raw(UnsafeRawBufferPointer(rebasing: $0[0..<metadataEnd])) }
        return w.bytes
    }

    /// Calls `body` with the block's content, ready to be compressed: the count and lengths written in the room
    /// before the encodings.
    mutating func withContent<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var prefixBytes = Varint.size(UInt64(lengths.count))
        for length in lengths { prefixBytes += Varint.size(UInt64(length)) }
        guard prefixBytes <= Self.prefixRoom else {
            var w = WireWriter(capacity: prefixBytes + rawBytes)
            w.varint(UInt64(lengths.count))
            for length in lengths { w.varint(UInt64(length)) }
            let encodings = Self.prefixRoom..<end
            storage.withUnsafeBytes { w.raw(UnsafeRawBufferPointer(rebasing: $0[encodings])) }
            return try w.bytes.withUnsafeBytes(body)
        }
        let start = Self.prefixRoom - prefixBytes
        let (count, lengths, contentEnd) = (lengths.count, lengths, end)
        return try storage.withUnsafeMutableBytes { raw in
            var at = raw.baseAddress! + start
            at += Varint.write(UInt64(count), to: at.assumingMemoryBound(to: UInt8.self))
            for length in lengths { at += Varint.write(UInt64(length), to: at.assumingMemoryBound(to: UInt8.self)) }
            return try body(UnsafeRawBufferPointer(rebasing: raw[start..<contentEnd]))
        }
    }

    /// The block's content as `withContent` hands it over, copied.
    mutating func encode() -> [UInt8] {
        withContent { Array($0) }
    }

    /// Makes room for `bytes` more after the encodings.
    private mutating func reserve(_ bytes: Int) {
        let needed = end + bytes
        guard storage.count < needed else { return }
        storage.append(contentsOf: repeatElement(0, count: max(needed, storage.count * 2) - storage.count))
    }

    /// The byte ranges of the records in a block's content (`count | length [count] | encoding [count]`, from
    /// `start`; a journal's metadata frame has the same layout after its block offset). Throws `corrupt` when the
    /// lengths do not add up to the content.
    static func ranges(_ content: UnsafeRawBufferPointer, from start: Int = 0) throws -> [Range<Int>] {
        var r = WireReader(content, from: start)
        let count = try r.varint()
        // Every record takes at least one length byte and one content byte.
        guard count >= 1, count <= UInt64(SegmentFormat.maxBlockRecords), count <= UInt64(content.count) else {
            throw SegmentError(.corrupt, "block holds an impossible record count \(count)")
        }
        var lengths: [Int] = []
        lengths.reserveCapacity(Int(count))
        var total = 0
        for _ in 0..<count {
            let length = try r.varint()
            guard length <= UInt64(content.count) else { throw SegmentError(.corrupt, "block record length overflow") }
            lengths.append(Int(length))
            total += Int(length)
        }
        let start = r.position
        guard total == content.count - start else {
            throw SegmentError(.corrupt, "block record lengths do not add up to its content")
        }
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(lengths.count)
        var at = start
        for length in lengths {
            ranges.append(at..<(at + length))
            at += length
        }
        return ranges
    }

    /// Decodes every record of a block's content, in slot order, each with the length of its encoding. A version 4
    /// block holds payload parts: `metadata` gives each slot's record the rest.
    static func decodeAll(_ content: UnsafeRawBufferPointer, metadata: (any BlockMetadata)? = nil) throws -> [(
        record: LogRecord, length: Int
    )] {
        let ranges = try ranges(content)
        if let metadata, metadata.count != ranges.count {
            throw SegmentError(
                .corrupt,
                "block holds \(ranges.count) records, its metadata \(metadata.count.map(String.init) ?? "one")")
        }
        return try ranges.enumerated().map { slot, range in
            let part = UnsafeRawBufferPointer(rebasing: content[range])
            guard let metadata else { return (try RecordCodec.decode(part), range.count) }
            return (try metadata.record(slot: slot, payload: part), range.count)
        }
    }

    /// Decodes the record in `slot` of a block's content; its encoding must be `length` bytes long when given.
    static func decode(
        _ content: UnsafeRawBufferPointer, slot: Int, length: Int? = nil, metadata: (any BlockMetadata)? = nil
    ) throws -> LogRecord {
        let ranges = try ranges(content)
        guard slot < ranges.count else {
            throw SegmentError(.corrupt, "block holds \(ranges.count) records, no slot \(slot)")
        }
        if let length, ranges[slot].count != length {
            throw SegmentError(.corrupt, "record in slot \(slot) is \(ranges[slot].count) bytes, not \(length)")
        }
        if let metadata, let count = metadata.count, count != ranges.count {
            throw SegmentError(.corrupt, "block holds \(ranges.count) records, its metadata \(count)")
        }
        let part = UnsafeRawBufferPointer(rebasing: content[ranges[slot]])
        guard let metadata else { return try RecordCodec.decode(part) }
        return try metadata.record(slot: slot, payload: part)
    }

    /// Decodes a whole block frame as read from a segment (header and payload): checks its length, type and
    /// checksum, decompresses it, and decodes the record in `slot` (whose encoding must be `length` bytes when
    /// given). What the reader does for one record; the fuzzer drives it with arbitrary bytes.
    static func decodeFrame(
        _ frame: UnsafeRawBufferPointer, slot: Int, length: Int? = nil, metadata: (any BlockMetadata)? = nil,
        decompress: (UnsafeRawBufferPointer) throws -> [UInt8]
    ) throws -> LogRecord {
        guard let header = FrameHeader.parse(frame), header.frameLength == frame.count else {
            throw SegmentError(.corrupt, "not a whole frame")
        }
        guard header.type == FrameType.block.rawValue else {
            throw SegmentError(.corrupt, "frame is not a block (type \(header.type))")
        }
        let payload = UnsafeRawBufferPointer(rebasing: frame[SegmentFormat.frameHeaderSize...])
        guard header.verifies(header: frame, payload: payload) else {
            throw SegmentError(.corrupt, "block frame does not verify")
        }
        let content = try Self.content(flags: header.flags, payload: payload, decompress: decompress)
        return try content.withUnsafeBytes { try decode($0, slot: slot, length: length, metadata: metadata) }
    }

    /// The content of a verified block frame's payload: decompressed when flagged.
    static func content(
        flags: UInt8, payload: UnsafeRawBufferPointer, decompress: (UnsafeRawBufferPointer) throws -> [UInt8]
    ) throws -> [UInt8] {
        if flags & SegmentFormat.flagCompressed == 0 { return Array(payload) }
        do {
            return try decompress(payload)
        } catch let error as ZstdError where error.code == .missingDictionary {
            throw SegmentError(.notFound, "block needs a zstd dictionary that is not in dicts/", cause: error)
        } catch let error as SegmentError {
            throw error
        } catch {
            throw SegmentError(.corrupt, "block frame does not decompress", cause: error)
        }
    }
}

/// Where the records of a version 4 block get their metadata (FORMAT.md, *Format version 4*): the journal's metadata
/// frame for the block (`JournalFrame`) while the segment is active, its columns' rows once sealed.
protocol BlockMetadata {
    /// The block's record count; nil for the metadata of one record given by its reader (which reads that one).
    var count: Int? { get }
    /// The record in `slot`, its payload part given.
    func record(slot: Int, payload: UnsafeRawBufferPointer) throws -> LogRecord
}
