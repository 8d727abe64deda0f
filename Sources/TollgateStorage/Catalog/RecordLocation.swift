/// Where a record's frame lives: segment sequence number, byte offset of the frame, frame length in bytes.
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
