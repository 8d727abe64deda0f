/// The group commit in three steps, so the disk's fsync does not stop appends: `beginCommit()` writes what is
/// buffered and sets aside what the commit covers (the pending logs, the usage records, the observer's folds);
/// `SegmentSync.run()` fsyncs on any thread, without the writer's lock; `finishCommit(_:)` takes the lock again and
/// indexes the logs it made durable, records sealed segments and tells the observer. Appends meanwhile go to the
/// next commit.
///
/// One commit is in flight at a time. Whatever else needs the durable point — another commit, `afterCommit`,
/// `close`, a seal, a failed write's repair — waits for the fsync first and takes its outcome.
extension LogStore {
    /// A commit begun and not finished.
    struct InFlightCommit {
        let sync: SegmentSync
        /// The logs pending when it began (indexed when it finishes), with their columns.
        var logs: [Catalog.ActiveLog]
        var columns: Catalog.ActiveColumns
        /// The usage records appended before it began and not durable then: what a failed fsync loses with the logs.
        var usage: [LogIndexEntry]
        /// The newest record appended when it began: what the observer's checkpoint covers.
        let through: RecordLocation?
        /// Its fsync's outcome was taken: from then on `logs` are durable and wait only for the catalog.
        var settled = false
        /// Its fsync failed: the observer is not told, and the next successful commit covers its records.
        var failed = false
    }

    /// Begins a group commit whose fsync runs off the writer's lock: writes what is buffered and returns the fsync
    /// to run (`SegmentSync.run()`, on any thread), after which `finishCommit(_:)` indexes what it made durable.
    /// Appends go on meanwhile and wait for the next commit.
    ///
    /// Returns nil when the commit was done here, whole: when nothing new waits for an fsync, and while the store
    /// cannot write (its retries and probes, as `commit()` describes), a catalog that refused the last commit's logs
    /// included. A commit still in flight is finished first.
    public func beginCommit() throws -> SegmentSync? {
        let sync = try state.withLock { state -> SegmentSync? in
            // A commit whose fsync may still run is finished first. One whose logs the catalog refused waits for
            // the retry below, on the store's backoff.
            if let inFlight = state.inFlight, !inFlight.settled { try finishInFlight(&state) }
            guard state.inFlight == nil, state.health.failure == nil, !state.writer.needsRepair,
                state.writer.hasUnsyncedRecords
            else {
                try commitHoldingLock(&state)
                return nil
            }
            let sync: SegmentSync?
            do {
                sync = try state.writer.beginSync()
            } catch {
                fail(&state, Self.operation(of: error, writerFailed: state.writer.needsRepair), error)
                throw error
            }
            guard let sync else {
                try commitHoldingLock(&state)
                return nil
            }
            observer?.commitBegan()
            state.inFlight = InFlightCommit(
                sync: sync, logs: state.pending, columns: state.pendingColumns, usage: state.unsyncedUsage,
                through: state.lastAppended)
            state.pending.removeAll(keepingCapacity: true)
            state.pendingColumns.removeAll()
            state.unsyncedUsage.removeAll(keepingCapacity: true)
            return sync
        }
        // Done whole here: its catalog writes were the last.
        if sync == nil { checkpointCatalogIfDue() }
        return sync
    }

    /// Finishes the commit `sync` belongs to, once its fsync has run: indexes the logs it made durable, records
    /// segments sealed since, tells the observer, and seals the active segment if it is older than its maximum age.
    /// Does nothing when it was finished already (by a commit, `afterCommit` or `close` that came first). Throws the
    /// fsync's error (its lost records counted as failed) or the catalog's (its logs kept for the next commit).
    public func finishCommit(_ sync: SegmentSync) throws {
        try state.withLock { state in
            guard state.inFlight?.sync === sync else { return }
            try finishInFlight(&state)
            guard !state.writer.needsRepair else { return }
            try committing(&state, writes: false) { state in
                if try state.writer.sealIfDue() { try index(&state, durableOnly: true) }
            }
        }
        checkpointCatalogIfDue()
    }

    /// The catalog's checkpoint when its write-ahead log is due one (`Catalog.checkpointIfDue()`), after a commit
    /// and outside the writer's lock. A failure loses nothing (the log is read at the next open, and the next
    /// commit tries again): logged only.
    func checkpointCatalogIfDue() {
        do {
            try catalog.checkpointIfDue()
        } catch {
            logger.warning("catalog checkpoint failed", metadata: ["error": "\(error)"])
        }
    }

    /// Takes the outcome of the fsync of the commit in flight, waiting for it if it runs still. A failure stops the
    /// writer: the records after its durable point are counted as lost (`fail`) and the error is thrown; the
    /// commit's logs that are left are durable (before the durable point, or sealed since) and still to index.
    func settleInFlight(_ state: inout WriterState) throws {
        guard let inFlight = state.inFlight, !inFlight.settled else { return }
        state.inFlight!.settled = true
        // Taken by the writer here unless a seal or a repair took it first.
        try? state.writer.settleSync()
        guard let error = inFlight.sync.wait() else {
            if let through = inFlight.through,
                state.lastDurable.map({ ($0.segment, $0.offset) < (through.segment, through.offset) }) ?? true
            {
                state.lastDurable = through
            }
            return
        }
        state.inFlight!.failed = true
        // Counted already when a failed append repaired the writer since.
        if state.writer.needsRepair { fail(&state, Self.operation(of: error, writerFailed: true), error) }
        throw error
    }

    /// Settles the commit in flight, indexes its logs and, when its fsync succeeded, tells the observer.
    func finishInFlight(_ state: inout WriterState) throws {
        try settleInFlight(&state)
        guard let inFlight = state.inFlight else { return }
        // Its fsync wrote, unless a failed append left the writer to repair since.
        try committing(&state, writes: !state.writer.needsRepair && !inFlight.failed) { state in
            try index(&state, durableOnly: true)
            if !inFlight.failed { try observer?.committed(through: inFlight.through) }
        }
    }

    /// Makes the next segment's files ahead of the rotation that needs them, without the writer's lock: a rotation
    /// then fsyncs only the segment it seals, where it made the next one as well (two more fsyncs and the folder's)
    /// while appends waited. Any thread; does nothing when they are made or being made already.
    public func prepareNextSegment() {
        guard let next = state.withLock({ $0.writer.beginNextSegment() }) else { return }
        next.run()
    }
}
