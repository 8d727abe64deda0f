/// Constants and small encoders of the segment file format (see FORMAT.md).
enum SegmentFormat {
    static let magic: [UInt8] = Array("TGSG".utf8)
    /// The format version new segments are written in by default (see FORMAT.md, *Format version 5*).
    static let version: UInt8 = 5
    /// The versions this build reads: 1 (a frame per record), 2 (records in blocks), 3 (blocks, and a grouped
    /// index when sealed), 4 (blocks of payload parts, their metadata in a journal until the seal) and 5 (version 4 with
    /// its columns in row groups).
    static let readableVersions: ClosedRange<UInt8> = 1...5
    /// The rows of a group of a version 5 segment's columns frame, as this build writes them (FORMAT.md, *Format
    /// version 5*): one record's read decompresses about 32 KB of columns.
    static let columnGroupRows = 1_024

    /// The rows of each group of the columns of a segment of format `version`; `Int.max` (one group, not cut) before
    /// version 5.
    static func columnGroupRows(version: UInt8) -> Int { version >= 5 ? columnGroupRows : .max }
    static let fileHeaderSize = 16
    static let frameHeaderSize = 10
    /// Largest payload a frame may declare; anything larger is corruption.
    static let maxPayload = 1 << 30
    static let footerPayloadSize = 64
    static let footerFrameSize = frameHeaderSize + footerPayloadSize
    static let footerMagic: [UInt8] = Array("TGSL".utf8)
    /// Flags bit 0: the payload is a zstd frame.
    static let flagCompressed: UInt8 = 0x01

    static let segmentsDirectory = "segments"
    static let dictionariesDirectory = "dicts"

    /// `00000042.seg`
    static func fileName(_ sequence: UInt32) -> String { numberedName(sequence, extension: "seg") }

    /// The sequence number of a segment file name, nil for any other name.
    static func sequence(fromFileName name: String) -> UInt32? { number(fromName: name, extension: "seg") }

    /// A file named by a segment's sequence number: 8 decimal digits, zero-padded, then `.<extension>`.
    static func numberedName(_ sequence: UInt32, extension ext: String) -> String {
        let digits = String(sequence)
        return String(repeating: "0", count: max(0, 8 - digits.count)) + digits + "." + ext
    }

    /// The sequence number in a name `numberedName` makes, nil for any other name.
    static func number(fromName name: String, extension ext: String) -> UInt32? {
        guard name.hasSuffix("." + ext) else { return nil }
        let stem = name.dropLast(ext.utf8.count + 1)
        guard stem.count >= 8, stem.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let n = UInt32(stem), n > 0
        else { return nil }
        return n
    }

    static func fileHeader(sequence: UInt32, version: UInt8 = version) -> [UInt8] {
        var w = WireWriter(capacity: fileHeaderSize)
        w.raw(magic)
        w.u8(version)
        w.raw([0, 0, 0])
        w.u32(sequence)
        w.u32(w.bytes.withUnsafeBytes { CRC32C.checksum($0) })
        return w.bytes
    }

    /// The sequence number in a file header, nil when it does not verify. Throws for a newer version.
    static func parseFileHeader(_ bytes: [UInt8]) throws -> UInt32? {
        try parseVersionedFileHeader(bytes)?.sequence
    }

    /// The sequence number and format version in a file header, nil when it does not verify. Throws for a version
    /// this build does not read.
    static func parseVersionedFileHeader(_ bytes: [UInt8]) throws -> (sequence: UInt32, version: UInt8)? {
        guard bytes.count >= fileHeaderSize, Array(bytes[0..<4]) == magic else { return nil }
        return try bytes.withUnsafeBytes { buffer -> (UInt32, UInt8)? in
            var r = WireReader(buffer, from: 12)
            let crc = try r.u32()
            guard crc == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[0..<12])) else { return nil }
            guard readableVersions.contains(bytes[4]) else {
                throw SegmentError(
                    .unsupportedVersion,
                    "segment format version \(bytes[4]), this build reads \(readableVersions.lowerBound)..."
                        + "\(readableVersions.upperBound)")
            }
            var s = WireReader(buffer, from: 8)
            return (try s.u32(), bytes[4])
        }
    }

    /// Bits of a version 2 record location's offset that hold the record's slot in its block.
    static let slotBits: UInt64 = 16
    /// Most records in one block.
    static let maxBlockRecords = 1 << 16 - 1

    /// The offset of a version 2 record location: the block frame's offset and the record's slot in it.
    static func blockLocationOffset(block: UInt64, slot: Int) -> UInt64 { block << slotBits | UInt64(slot) }

    /// The block frame offset and slot of a version 2 record location's offset.
    static func blockAndSlot(_ offset: UInt64) -> (block: UInt64, slot: Int) {
        (offset >> slotBits, Int(offset & (1 << slotBits - 1)))
    }

    /// Appends one frame (header + payload) to `out`; returns the frame's length.
    @discardableResult
    static func appendFrame(
        type: FrameType, flags: UInt8, payload: UnsafeRawBufferPointer, to out: inout [UInt8]
    ) -> Int {
        appendFrameHeader(type: type, flags: flags, payload: payload, to: &out)
        out.append(contentsOf: payload)
        return frameHeaderSize + payload.count
    }

    /// The 10-byte header of a frame holding `payload` (type, flags, length, CRC-32C of both).
    static func frameHeader(type: FrameType, flags: UInt8, payload: [UInt8]) -> [UInt8] {
        var header: [UInt8] = []
        header.reserveCapacity(frameHeaderSize)
        payload.withUnsafeBytes { appendFrameHeader(type: type, flags: flags, payload: $0, to: &header) }
        return header
    }

    private static func appendFrameHeader(
        type: FrameType, flags: UInt8, payload: UnsafeRawBufferPointer, to out: inout [UInt8]
    ) {
        appendFrameHeader(type: type, flags: flags, length: payload.count, to: &out) { CRC32C.update($0, payload) }
    }

    /// The 10-byte header of a frame whose `length`-byte payload `payload` hands over in pieces (once, for the
    /// checksum): how a seal writes its index frame without holding it whole.
    static func frameHeader(
        type: FrameType, flags: UInt8, length: Int,
        payload: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void
    ) rethrows -> [UInt8] {
        var header: [UInt8] = []
        header.reserveCapacity(frameHeaderSize)
        try appendFrameHeader(type: type, flags: flags, length: length, to: &header) { crc in
            var crc = crc
            try payload { crc = CRC32C.update(crc, $0) }
            return crc
        }
        return header
    }

    /// Appends type, flags and length, then the CRC-32C of those six bytes continued over the payload by
    /// `payloadCRC` (given the running value, it returns it updated with the payload's bytes).
    private static func appendFrameHeader(
        type: FrameType, flags: UInt8, length: Int, to out: inout [UInt8], payloadCRC: (UInt32) throws -> UInt32
    ) rethrows {
        let start = out.count
        let length = UInt32(length)
        out.append(type.rawValue)
        out.append(flags)
        for shift in stride(from: UInt32(0), to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: length >> shift)) }
        var crc: UInt32 = 0xFFFF_FFFF
        crc = out.withUnsafeBytes { CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: $0[start..<(start + 6)])) }
        crc = ~(try payloadCRC(crc))
        for shift in stride(from: UInt32(0), to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: crc >> shift)) }
    }

    @discardableResult
    static func appendFrame(type: FrameType, flags: UInt8, payload: [UInt8], to out: inout [UInt8]) -> Int {
        payload.withUnsafeBytes { appendFrame(type: type, flags: flags, payload: $0, to: &out) }
    }
}

/// The frame types of format version 1. Readers skip types they do not know.
enum FrameType: UInt8 {
    case record = 1
    case index = 2
    case columns = 3
    case footer = 4
    /// Version 2: several records compressed together (see `RecordBlock`).
    case block = 5
    /// Version 3: the index of a sealed segment in groups (see `GroupedIndex`).
    case groupedIndex = 6
    /// Version 4, in a journal only: the metadata parts of one block's records (see `SegmentJournal`).
    case metadata = 7
}

/// A frame header as read from disk.
struct FrameHeader {
    var type: UInt8
    var flags: UInt8
    var payloadLength: Int
    var checksum: UInt32

    var frameLength: Int { SegmentFormat.frameHeaderSize + payloadLength }
    var isCompressed: Bool { flags & SegmentFormat.flagCompressed != 0 }

    /// Parses the 10 header bytes at `offset`; nil when fewer than 10 bytes are there or the length is impossible.
    static func parse(_ buffer: UnsafeRawBufferPointer, at offset: Int = 0) -> FrameHeader? {
        guard buffer.count - offset >= SegmentFormat.frameHeaderSize else { return nil }
        let length = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset + 2, as: UInt32.self))
        guard length <= UInt32(SegmentFormat.maxPayload) else { return nil }
        let crc = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: offset + 6, as: UInt32.self))
        return FrameHeader(type: buffer[offset], flags: buffer[offset + 1], payloadLength: Int(length), checksum: crc)
    }

    /// Whether the checksum matches the header bytes and `payload`.
    func verifies(header: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) -> Bool {
        var crc: UInt32 = 0xFFFF_FFFF
        crc = CRC32C.update(crc, UnsafeRawBufferPointer(rebasing: header[0..<6]))
        crc = ~CRC32C.update(crc, payload)
        return crc == checksum
    }
}
