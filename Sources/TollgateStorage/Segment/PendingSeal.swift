/// A segment sealed by a rotation during an append whose seal is written and not yet fsynced. The next commit's
/// fsync makes it durable (`SegmentSync` fsyncs it before the new active segment), so a rotation does not wait for
/// the disk on the appending thread. Until then the store's durable point stays in the sealed segment: the
/// segment's journal is kept, the seal is not announced (`onSeal`), and a failed fsync cuts the store back to that
/// point — the sealed segment an unsealed active one again, the segment started after it deleted (`repair()`).
///
/// A crash meanwhile leaves an unsealed tail of two segments (or a seal whose footer made it to the disk), which
/// recovery on open reads as after any crash: each scanned, cut after its last good frame, all but the last sealed.
struct PendingSeal {
    let sealed: SealedSegment
    let file: SegmentFile
    let journal: SegmentFile?
    let version: UInt8
    /// Its rows, for a cut back (`repair()`).
    let columns: ColumnBuilder
    /// Its durable point before the seal: moved by a commit's fsync of it that began before the seal and ends
    /// after.
    var durable: DurablePoint
    /// An fsync of it failed: its seal and what came after are cut off, never fsynced again.
    var syncFailed = false
}

extension SegmentWriter {
    /// Whether a seal waits for its fsync.
    public var hasPendingSeal: Bool { pendingSeal != nil }

    /// Makes the seal waiting for its fsync durable now, on the calling thread: before another seal, a synchronous
    /// commit, closing, or a repair after a failure that was not its fsync's.
    func completePendingSeal() throws {
        guard let seal = pendingSeal else { return }
        try SegmentSync.sync(file: seal.file, journal: nil, faults: configuration.faults)
        finishPendingSeal()
    }

    /// After a failed write, before the records it lost are counted: a seal whose fsync never ran (an append or
    /// the next segment's creation failed after it) is made durable now, so the durable point takes it in; one
    /// whose fsync failed, or fails now, stays to be cut off by `repair()`.
    public func completePendingSealAfterFailure() {
        guard let seal = pendingSeal, !seal.syncFailed else { return }
        do {
            try completePendingSeal()
        } catch {
            pendingSeal?.syncFailed = true
        }
    }

    /// Its fsync succeeded: the sealed segment's journal goes and the seal is announced.
    func finishPendingSeal() {
        guard let seal = pendingSeal else { return }
        pendingSeal = nil
        // Still the active segment when the next one could not be made: all of it is durable now.
        if activeSegment == seal.sealed.segment { markDurable() }
        removeJournal(seal.journal, of: seal.sealed.segment)
        announce(seal.sealed)
    }

    /// A commit's fsync of the sealed segment, begun before the seal, succeeded: its durable point moves.
    func settled(_ sync: SegmentSync, inSealed seal: inout PendingSeal) {
        guard sync.point.bytes > seal.durable.bytes else { return }
        seal.durable = sync.point
    }

    /// After a failed fsync of the pending seal: the segment started after it is deleted (none of its records was
    /// fsynced), and the sealed segment becomes the active one again, unsealed, with its durable point; `repair()`
    /// then cuts it back to that point.
    func rollBackPendingSeal() throws {
        guard let seal = pendingSeal else { return }
        if let next = nextSegment {
            nextSegment = nil
            _ = next.wait()
            try NextSegment.remove(sequence: next.sequence, segmentsPath: segmentsPath)
        }
        if activeSegment != seal.sealed.segment {
            file = nil
            journal = nil
            try NextSegment.remove(sequence: activeSegment, segmentsPath: segmentsPath)
        }
        pendingSeal = nil
        file = seal.file
        journal = seal.journal
        activeSegment = seal.sealed.segment
        activeVersion = seal.version
        activeColumns = seal.columns
        activeSealed = false
        writtenBytes = seal.sealed.bytes
        journalBytes = try seal.journal?.size() ?? 0
        durable = seal.durable
    }
}
