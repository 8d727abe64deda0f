/// Where a record lives in the segment store: the segment's number, the byte offset of the record's frame in that
/// segment file, and the frame's length in bytes.
public struct RecordLocation: Sendable, Hashable {
    public var segment: UInt32
    public var offset: UInt64
    public var length: UInt32

    public init(segment: UInt32, offset: UInt64, length: UInt32) {
        self.segment = segment
        self.offset = offset
        self.length = length
    }
}
