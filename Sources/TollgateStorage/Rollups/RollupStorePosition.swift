/// The store position a rollup checkpoint covers: every record up to and including the one at `offset` of
/// segment `segment` is counted.
public struct RollupStorePosition: Sendable, Hashable {
    public var segment: UInt32
    public var offset: UInt64

    public init(segment: UInt32, offset: UInt64) {
        self.segment = segment
        self.offset = offset
    }
}
