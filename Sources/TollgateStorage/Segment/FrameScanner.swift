/// Walks the frames of a segment held in memory, verifying each checksum, and says why it stopped.
struct FrameScanner {
    struct Frame {
        var offset: Int
        var header: FrameHeader
        /// Range of the payload in the scanned buffer.
        var payload: Range<Int>
        var end: Int { payload.upperBound }
    }

    enum Stop: Equatable {
        /// Clean end: the last frame ends exactly at the end of the bytes.
        case end
        /// Fewer bytes than a frame header, or than the length a header declares (a torn write).
        case torn
        /// A complete frame whose checksum does not match, or an impossible length.
        case badChecksum
    }

    let buffer: UnsafeRawBufferPointer
    private(set) var position: Int
    private(set) var stop: Stop?

    init(_ buffer: UnsafeRawBufferPointer, from start: Int) {
        self.buffer = buffer
        self.position = start
    }

    /// The next verified frame, or nil with `stop` set.
    mutating func next() -> Frame? {
        guard stop == nil else { return nil }
        let left = buffer.count - position
        if left == 0 {
            stop = .end
            return nil
        }
        guard left >= SegmentFormat.frameHeaderSize else {
            stop = .torn
            return nil
        }
        let declared = UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: position + 2, as: UInt32.self))
        guard let header = FrameHeader.parse(buffer, at: position) else {
            // A length over the limit: garbage if it fits in the file, else a torn header is as likely.
            stop = UInt64(declared) + UInt64(SegmentFormat.frameHeaderSize) > UInt64(left) ? .torn : .badChecksum
            return nil
        }
        guard header.frameLength <= left else {
            stop = .torn
            return nil
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: buffer[position..<(position + SegmentFormat.frameHeaderSize)])
        let payloadRange = (position + SegmentFormat.frameHeaderSize)..<(position + header.frameLength)
        guard header.verifies(header: headerBytes, payload: UnsafeRawBufferPointer(rebasing: buffer[payloadRange]))
        else {
            stop = .badChecksum
            return nil
        }
        let frame = Frame(offset: position, header: header, payload: payloadRange)
        position = frame.end
        return frame
    }
}
