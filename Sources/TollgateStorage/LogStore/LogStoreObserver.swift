import TollgateModel

/// What the layer above the log store adds to each record: its cost, and the derived state (rollups) that follows
/// the store's writes.
///
/// Every method is called under the store's writer lock (on the thread that appends, or on the one that finishes a
/// commit: `LogStore.finishCommit`), so an observer sees records in append order and never concurrently with another
/// write.
///
/// A class: the store holds its observer as an optional existential and reaches it for every record, and such a value
/// of a class is one reference to count, where any other is copied through the runtime's generic witnesses.
public protocol LogStoreObserver: AnyObject, Sendable {
    /// What `record`'s usage costs in picodollars (10⁻¹² USD) at the prices in force, nil when it is unpriced. Asked
    /// for every record the store indexes: appended ones and ones re-indexed from the tail at recovery. The index
    /// entry charges it (`LogIndexEntry.init(_:location:price:)`): a cache hit costs 0 and saved this price, a
    /// refused request costs 0.
    func price(of record: LogRecord) -> Int64?

    /// The record `record` points to was appended, priced `price` (before the charges a cached or refused request
    /// takes: `LogIndexEntry.charges`); it becomes durable and indexed at the next commit. The record is read where
    /// it lies in the store's batch, and only during the call.
    func appended(_ record: UnsafePointer<LogRecord>, price: Int64?)

    /// `entries` were appended but a write failed before they were durable: they are not stored, and whatever
    /// `appended` did for them must be undone.
    func discarded(_ entries: [LogIndexEntry])

    /// A commit began: it covers the records appended so far, and those appended while its fsync runs wait for the
    /// next one. What `appended` did for the ones it covers is what its `committed(through:)` makes lasting.
    func commitBegan()

    /// The commit begun last made every entry appended before it began durable and indexed; `last` is the newest
    /// one's location (nil when nothing was ever appended). Not called for a commit whose fsync failed: the next
    /// successful one covers its records too (those it lost taken back by `discarded` in between).
    func committed(through last: RecordLocation?) throws

    /// The position after which a restart replays the stored records into derived state (the rollups'
    /// checkpoint), nil when none. Compaction leaves this segment and the later ones alone, so what a restart
    /// replays keeps its positions.
    func replayPosition() throws -> RecordLocation?
}

extension LogStoreObserver {
    public func commitBegan() {}
    public func replayPosition() throws -> RecordLocation? { nil }
}
