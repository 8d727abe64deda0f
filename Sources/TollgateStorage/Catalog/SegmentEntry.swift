/// A segment file of the record store, as the catalog tracks it.
public struct SegmentEntry: Sendable, Hashable {
    public enum State: String, Sendable, Hashable {
        /// Being appended to.
        case active
        /// Closed and read-only.
        case sealed
    }

    /// The segment's number (its file name).
    public var seq: UInt32
    public var state: State
    /// `created_at` (Unix ms) of the oldest and newest records in it; nil while empty.
    public var firstCreatedAt: Int64?
    public var lastCreatedAt: Int64?
    public var recordCount: Int64
    /// File size in bytes.
    public var bytes: Int64
    /// Unix ms of sealing; nil while active.
    public var sealedAt: Int64?

    public init(
        seq: UInt32, state: State = .active, firstCreatedAt: Int64? = nil, lastCreatedAt: Int64? = nil,
        recordCount: Int64 = 0, bytes: Int64 = 0, sealedAt: Int64? = nil
    ) {
        self.seq = seq
        self.state = state
        self.firstCreatedAt = firstCreatedAt
        self.lastCreatedAt = lastCreatedAt
        self.recordCount = recordCount
        self.bytes = bytes
        self.sealedAt = sealedAt
    }
}
