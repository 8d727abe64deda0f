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
