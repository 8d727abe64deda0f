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
        let headerBytes = UnsafeRawBufferPointer(
            rebasing: buffer[position..<(position + SegmentFormat.frameHeaderSize)])
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

extension FrameScanner {
    /// Calls `body` with each verified frame of `file` in [`start`, `end`), reading the file in chunks of about
    /// `chunkBytes` (more for a larger frame), so a large segment is never held whole. `offset` is the frame's
    /// position in the file; `frame` and `payload` are valid during the call only. A frame that does not verify, or
    /// one cut by `end`, is `SegmentError.corrupt`.
    static func forEachFrame(
        in file: SegmentFile, from start: UInt64, to end: UInt64, chunkBytes: Int = 8 << 20,
        _ body: (
            _ offset: UInt64, _ header: FrameHeader, _ frame: UnsafeRawBufferPointer, _ payload: UnsafeRawBufferPointer
        ) throws -> Void
    ) throws {
        var base = start
        var want = chunkBytes
        while base < end {
            let count = Int(min(UInt64(max(want, chunkBytes)), end - base))
            let bytes = try file.read(count: count, at: base)
            guard bytes.count == count else {
                throw SegmentError(.corrupt, "the file ends at \(base + UInt64(bytes.count)), before \(end)")
            }
            var consumed = 0
            var stop: Stop?
            try bytes.withUnsafeBytes { buffer in
                var scanner = FrameScanner(buffer, from: 0)
                while let frame = scanner.next() {
                    try body(
                        base + UInt64(frame.offset), frame.header,
                        UnsafeRawBufferPointer(rebasing: buffer[frame.offset..<frame.end]),
                        UnsafeRawBufferPointer(rebasing: buffer[frame.payload]))
                }
                consumed = scanner.position
                stop = scanner.stop
                let left = buffer.count - consumed
                want = chunkBytes
                if stop == .torn && left >= SegmentFormat.frameHeaderSize {
                    let declared = UInt32(
                        littleEndian: buffer.loadUnaligned(fromByteOffset: consumed + 2, as: UInt32.self))
                    want = Int(declared) + SegmentFormat.frameHeaderSize
                }
                // A frame cut by this chunk's end: the next read starts at it and holds it whole.
                if stop == .torn && consumed == 0 { want = max(want, count + chunkBytes) }
            }
            switch stop {
            case .end?:
                base += UInt64(count)
            case .torn? where base + UInt64(count) < end:
                base += UInt64(consumed)
            default:
                throw SegmentError(.corrupt, "frame at \(base + UInt64(consumed)) does not verify")
            }
        }
    }
}
