import TollgateModel

/// The fixed-size last frame of a sealed segment: where its index and columns frames are, and its id range.
public struct SegmentFooter: Sendable, Equatable {
    public var indexOffset: UInt64
    public var indexLength: UInt32
    public var columnsOffset: UInt64
    public var columnsLength: UInt32
    public var recordCount: UInt32
    public var minID: LogID
    public var maxID: LogID

    /// Whether the footer's frames lie back to back right before it, as the writer puts them, in a file of
    /// `fileSize` bytes whose header says format `version`, and its index frame has a length an index of
    /// `recordCount` entries takes: exactly the fixed frame's, or, in a version 3 or 4 segment, a grouped frame's (at
    /// least its smallest, and less than the fixed frame's); in a version 5 segment, at least a grouped frame's
    /// smallest (its grouped index is written even when larger). A footer-shaped byte run inside a record's raw payload would
    /// not pass this. Offsets and counts are whatever the bytes say: sums that overflow, and a record count whose
    /// index would not fit a frame, make the footer inconsistent rather than trap.
    func isConsistent(fileSize: UInt64, version: UInt8) -> Bool {
        let footerStart = fileSize &- UInt64(SegmentFormat.footerFrameSize)
        let indexEnd = indexOffset.addingReportingOverflow(UInt64(indexLength))
        let columnsEnd = columnsOffset.addingReportingOverflow(UInt64(columnsLength))
        let fixedLength =
            UInt64(SegmentFormat.frameHeaderSize + 4) + UInt64(recordCount) * UInt64(SegmentIndex.entrySize)
        let groupedLength =
            UInt64(SegmentFormat.frameHeaderSize) + UInt64(GroupedIndex.minimumPayloadSize(count: Int(recordCount)))
        let length = UInt64(indexLength)
        return fileSize >= UInt64(SegmentFormat.fileHeaderSize + SegmentFormat.footerFrameSize)
            && indexOffset >= UInt64(SegmentFormat.fileHeaderSize)
            && !indexEnd.overflow && indexEnd.partialValue == columnsOffset
            && !columnsEnd.overflow && columnsEnd.partialValue == footerStart
            && (length == fixedLength || (version >= 3 && length >= groupedLength && length < fixedLength)
                || (version >= 5 && length >= groupedLength))
    }

    /// Whether a record with this id may be in the segment.
    public func mayContain(_ id: LogID) -> Bool { recordCount > 0 && !(id < minID) && !(maxID < id) }

    func encodePayload() -> [UInt8] {
        var w = WireWriter(capacity: SegmentFormat.footerPayloadSize)
        w.u64(indexOffset)
        w.u32(indexLength)
        w.u64(columnsOffset)
        w.u32(columnsLength)
        w.u32(recordCount)
        w.id(LogIDBytes(high: minID.high, low: minID.low))
        w.id(LogIDBytes(high: maxID.high, low: maxID.low))
        w.raw(SegmentFormat.footerMagic)
        return w.bytes
    }

    /// Parses the last `footerFrameSize` bytes of a file; nil when they are not a valid footer frame.
    static func parse(frame bytes: [UInt8]) -> SegmentFooter? {
        guard bytes.count == SegmentFormat.footerFrameSize else { return nil }
        return bytes.withUnsafeBytes { buffer -> SegmentFooter? in
            guard let header = FrameHeader.parse(buffer), header.type == FrameType.footer.rawValue,
                header.payloadLength == SegmentFormat.footerPayloadSize
            else { return nil }
            let payload = UnsafeRawBufferPointer(rebasing: buffer[SegmentFormat.frameHeaderSize...])
            guard header.verifies(header: buffer, payload: payload),
                Array(payload[60..<64]) == SegmentFormat.footerMagic
            else { return nil }
            var r = WireReader(payload)
            do {
                let footer = SegmentFooter(
                    indexOffset: try r.u64(), indexLength: try r.u32(), columnsOffset: try r.u64(),
                    columnsLength: try r.u32(), recordCount: try r.u32(),
                    minID: LogID(high: try r.bigEndianU64(), low: try r.bigEndianU64()),
                    maxID: LogID(high: try r.bigEndianU64(), low: try r.bigEndianU64()))
                return footer
            } catch {
                return nil
            }
        }
    }
}
