import TollgateModel

/// The journal of a version 4 active segment (FORMAT.md, *Format version 4*): `<seq>.journal` beside the segment,
/// a file header, then one metadata frame (type 7) for each block frame of the segment, holding its records'
/// metadata parts. Deleted once the segment is sealed: a sealed segment's columns hold the same fields.
enum SegmentJournal {
    static let magic: [UInt8] = Array("TGJL".utf8)

    /// `00000042.journal`
    static func fileName(_ sequence: UInt32) -> String { SegmentFormat.numberedName(sequence, extension: "journal") }

    /// The sequence number of a journal file name, nil for any other name.
    static func sequence(fromFileName name: String) -> UInt32? {
        SegmentFormat.number(fromName: name, extension: "journal")
    }

    /// The 16-byte file header: magic, format version 4, three zero bytes, the sequence number, CRC-32C.
    static func fileHeader(sequence: UInt32) -> [UInt8] {
        var w = WireWriter(capacity: SegmentFormat.fileHeaderSize)
        w.raw(magic)
        w.u8(4)
        w.raw([0, 0, 0])
        w.u32(sequence)
        w.u32(w.bytes.withUnsafeBytes { CRC32C.checksum($0) })
        return w.bytes
    }

    /// Whether `bytes` start with the header of segment `sequence`'s journal.
    static func hasHeader(_ bytes: UnsafeRawBufferPointer, sequence: UInt32) -> Bool {
        guard bytes.count >= SegmentFormat.fileHeaderSize else { return false }
        return fileHeader(sequence: sequence).withUnsafeBytes {
            $0.elementsEqual(UnsafeRawBufferPointer(rebasing: bytes[0..<SegmentFormat.fileHeaderSize]))
        }
    }

    /// What a journal's bytes hold: its metadata frames in order, up to the first that is torn, fails its checksum
    /// or does not parse, and where the last good one ends (`validEnd`; 0 when the header itself is not valid).
    struct Contents {
        var frames: [(frame: JournalFrame, end: Int)] = []
        var validEnd = 0

        /// The frame for the block frame at `blockOffset`, and where it ends in the journal; nil when there is none.
        func frame(forBlockAt blockOffset: UInt64) -> (frame: JournalFrame, end: Int)? {
            let k = frames.partitionPoint { $0.frame.blockOffset >= blockOffset }
            return k < frames.count && frames[k].frame.blockOffset == blockOffset ? frames[k] : nil
        }
    }

    /// Reads a journal's bytes (as `Contents` says). Frames of other types are skipped; frames whose block offsets
    /// do not rise end the valid part like a bad one.
    static func contents(_ bytes: UnsafeRawBufferPointer, sequence: UInt32) -> Contents {
        var contents = Contents()
        guard hasHeader(bytes, sequence: sequence) else { return contents }
        contents.validEnd = SegmentFormat.fileHeaderSize
        var scanner = FrameScanner(bytes, from: SegmentFormat.fileHeaderSize)
        while let frame = scanner.next() {
            guard frame.header.type == FrameType.metadata.rawValue else {
                contents.validEnd = frame.end
                continue
            }
            guard
                let parsed = try? JournalFrame.parse(UnsafeRawBufferPointer(rebasing: bytes[frame.payload])),
                contents.frames.last.map({ $0.frame.blockOffset < parsed.blockOffset }) ?? true
            else { break }
            contents.frames.append((parsed, frame.end))
            contents.validEnd = frame.end
        }
        return contents
    }
}

/// One metadata frame of a journal: the metadata parts of the records of the block frame at `blockOffset`.
struct JournalFrame: BlockMetadata, Sendable {
    let blockOffset: UInt64
    /// The parts back to back.
    private let bytes: [UInt8]
    /// Where each part ends in `bytes`.
    private let ends: [Int]

    /// The metadata parts it holds: its block's record count.
    var partCount: Int { ends.count }
    var count: Int? { partCount }

    /// Parses a metadata frame's content: `block_offset varint | count varint | part_length varint [count] |
    /// metadata part [count]`. Throws `corrupt` when the lengths do not add up to the content.
    static func parse(_ content: UnsafeRawBufferPointer) throws -> JournalFrame {
        var r = WireReader(content)
        let blockOffset = try r.varint()
        // After the block offset, a block's layout: the count, the lengths, the parts.
        let ranges = try RecordBlock.ranges(content, from: r.position)
        let partsStart = ranges[0].lowerBound
        return JournalFrame(
            blockOffset: blockOffset, bytes: Array(UnsafeRawBufferPointer(rebasing: content[partsStart...])),
            ends: ranges.map { $0.upperBound - partsStart })
    }

    func record(slot: Int, payload: UnsafeRawBufferPointer) throws -> LogRecord {
        try withPart(slot) { try RecordCodec.decode($0, payload: payload) }
    }

    /// Calls `body` with the metadata part of the record in `slot`.
    func withPart<R>(_ slot: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        guard slot >= 0, slot < ends.count else {
            throw SegmentError(.corrupt, "metadata frame holds \(ends.count) parts, no slot \(slot)")
        }
        let start = slot == 0 ? 0 : ends[slot - 1]
        return try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start..<ends[slot]])) }
    }
}
