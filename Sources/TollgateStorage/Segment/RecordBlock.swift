import TollgateModel

/// The content of a version 2 block frame (see FORMAT.md, *Format version 2*): `count varint | record_length
/// varint [count] | record encoding [count]`.
struct RecordBlock {
    /// Record encodings back to back, in append order.
    private(set) var records: [UInt8] = []
    /// The length of each encoding in `records`.
    private(set) var lengths: [Int] = []

    var count: Int { lengths.count }
    var isEmpty: Bool { lengths.isEmpty }
    /// Bytes of record encodings held.
    var rawBytes: Int { records.count }

    init(capacity: Int = 0) {
        records.reserveCapacity(capacity)
    }

    /// Adds one record encoding; returns its slot.
    @discardableResult
    mutating func append(_ encoding: [UInt8]) -> Int {
        records.append(contentsOf: encoding)
        lengths.append(encoding.count)
        return lengths.count - 1
    }

    mutating func removeAll() {
        records.removeAll(keepingCapacity: true)
        lengths.removeAll(keepingCapacity: true)
    }

    /// The block's content, ready to be compressed.
    func encode() -> [UInt8] {
        var w = WireWriter(capacity: records.count + 4 * lengths.count + 8)
        w.varint(UInt64(lengths.count))
        for length in lengths { w.varint(UInt64(length)) }
        w.raw(records)
        return w.bytes
    }

    /// The byte ranges of the records in a block's content. Throws `corrupt` when the lengths do not add up to
    /// the content.
    static func ranges(_ content: UnsafeRawBufferPointer) throws -> [Range<Int>] {
        var r = WireReader(content)
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

    /// Decodes every record of a block's content, in slot order, each with the length of its encoding.
    static func decodeAll(_ content: UnsafeRawBufferPointer) throws -> [(record: LogRecord, length: Int)] {
        try ranges(content).map { (try RecordCodec.decode(UnsafeRawBufferPointer(rebasing: content[$0])), $0.count) }
    }

    /// Decodes the record in `slot` of a block's content; its encoding must be `length` bytes long when given.
    static func decode(_ content: UnsafeRawBufferPointer, slot: Int, length: Int? = nil) throws -> LogRecord {
        let ranges = try ranges(content)
        guard slot < ranges.count else {
            throw SegmentError(.corrupt, "block holds \(ranges.count) records, no slot \(slot)")
        }
        if let length, ranges[slot].count != length {
            throw SegmentError(.corrupt, "record in slot \(slot) is \(ranges[slot].count) bytes, not \(length)")
        }
        return try RecordCodec.decode(UnsafeRawBufferPointer(rebasing: content[ranges[slot]]))
    }

    /// Decodes a whole block frame as read from a segment (header and payload): checks its length, type and
    /// checksum, decompresses it, and decodes the record in `slot` (whose encoding must be `length` bytes when
    /// given). What the reader does for one record; the fuzzer drives it with arbitrary bytes.
    static func decodeFrame(
        _ frame: UnsafeRawBufferPointer, slot: Int, length: Int? = nil,
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
        return try content.withUnsafeBytes { try decode($0, slot: slot, length: length) }
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
