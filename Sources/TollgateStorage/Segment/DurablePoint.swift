/// How far the active segment is on the disk: what a successful fsync, a seal, recovery or a new segment made
/// durable, and what a failed write cuts the writer back to (`SegmentWriter.repair()`). The writer keeps its own
/// (`durable`), a commit's sync records the point it makes durable (`SegmentSync.point`), and a seal waiting for its
/// fsync keeps the sealed segment's (`PendingSeal.durable`).
struct DurablePoint: Sendable {
    /// The end of the segment's last durable frame.
    var bytes: UInt64
    /// Version 4: the size of the segment's journal at that point.
    var journalBytes: UInt64
    /// Records before `bytes`.
    var records: Int
    /// The rotation's counts as they were there.
    var rotation: SegmentRotation
}
