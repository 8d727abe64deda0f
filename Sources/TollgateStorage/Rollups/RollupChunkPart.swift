/// One stored column of one part of a rollup chunk: the chunk's start (Unix ms), the part number (0 = the
/// compacted base, higher = deltas written after it) and the column's encoded bytes.
public struct RollupChunkPart: Sendable, Hashable {
    public var chunkStart: Int64
    public var part: Int64
    public var data: [UInt8]

    public init(chunkStart: Int64, part: Int64, data: [UInt8]) {
        self.chunkStart = chunkStart
        self.part = part
        self.data = data
    }
}
