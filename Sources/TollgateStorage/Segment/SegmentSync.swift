import Foundation

/// An fsync of the active segment begun by `SegmentWriter.beginSync()` and run off the writer's thread (`run()`),
/// while the writer goes on appending: what was written when it began becomes durable when it returns.
///
/// The writer settles it (`SegmentWriter.settleSync()`) before anything that moves its durable point or replaces
/// its files — the next sync, a seal, a repair, a probe, closing — waiting for `run()` to return if it has not yet.
/// A success moves the durable point to where the sync began; a failure stops the writer until `repair()`, which
/// cuts back to the durable point before it.
public final class SegmentSync: Sendable {
    /// The segment it makes durable.
    public let segment: UInt32
    let file: SegmentFile
    let journal: SegmentFile?
    /// Whether the active segment has bytes to make durable (else only the pending seal is fsynced).
    let syncsActive: Bool
    /// A rotation's seal waiting for its fsync (`PendingSeal`): its segment, fsynced first.
    let sealSegment: UInt32?
    let sealFile: SegmentFile?
    let faults: StorageFaults?
    /// The writer's state when the sync began: its durable point once `run()` succeeds.
    let point: DurablePoint

    /// nil once the data it covers is durable, else the fsync's error.
    private let outcome = Completion<SegmentError?>()

    init(
        segment: UInt32, file: SegmentFile, journal: SegmentFile?, syncsActive: Bool, seal: PendingSeal?,
        faults: StorageFaults?, point: DurablePoint
    ) {
        self.segment = segment
        self.file = file
        self.journal = journal
        self.syncsActive = syncsActive
        self.sealSegment = seal?.sealed.segment
        self.sealFile = seal?.file
        self.faults = faults
        self.point = point
    }

    /// The fsyncs of the pending seal's segment, of the active segment's journal and of the active segment, at once:
    /// any thread, once. Each waits for the disk on its own thread (the last on the calling one), so the commit
    /// waits about as long as its slowest fsync, not for their sum; all have returned before it counts as durable.
    /// The planned faults are asked first, in a fixed order (the seal's segment, then the active one). Errors are
    /// kept for whoever settles it.
    public func run() {
        do {
            var files: [SegmentFile] = []
            if let sealFile {
                try faults?.checkFailure(.segmentSync, call: "fsync", path: sealFile.path)
                files.append(sealFile)
            }
            if syncsActive {
                try faults?.checkFailure(.segmentSync, call: "fsync", path: file.path)
                if let journal { files.append(journal) }
                files.append(file)
            }
            try Self.syncAtOnce(files, faults: faults)
            outcome.finish(nil)
        } catch {
            outcome.finish((error as? SegmentError) ?? SegmentError(.io, "fsync failed", cause: error))
        }
    }

    /// fsyncs `files` at once, each but the last on a thread of its own (not a shared pool's: an fsync may hold its
    /// thread for as long as the disk takes), and throws the first failure once all have returned.
    static func syncAtOnce(_ files: [SegmentFile], faults: StorageFaults?) throws {
        guard let last = files.last else { return }
        let others = files.dropLast().map { other in
            let done = Completion<SegmentError?>()
            Thread.detachNewThread {
                done.finish(Self.syncReportingError(other, faults: faults))
            }
            return done
        }
        let lastError = syncReportingError(last, faults: faults)
        let errors = others.map { $0.wait() }
        if let error = errors.compactMap({ $0 }).first ?? lastError { throw error }
    }

    private static func syncReportingError(_ file: SegmentFile, faults: StorageFaults?) -> SegmentError? {
        do {
            faults?.delay(.segmentSync)
            try file.sync()
            return nil
        } catch {
            return (error as? SegmentError) ?? SegmentError(.io, "fsync failed", cause: error)
        }
    }

    /// Waits for `run()` to return and gives its error, nil when the data it covers is durable.
    public func wait() -> SegmentError? {
        outcome.wait()
    }

    /// `fsync` of a segment (and of its journal first, version 4), through the fault-injection seam.
    static func sync(file: SegmentFile, journal: SegmentFile?, faults: StorageFaults?) throws {
        try faults?.check(.segmentSync, call: "fsync", path: file.path)
        try journal?.sync()
        try file.sync()
    }
}

extension SegmentWriter {
    /// Starts a group commit whose fsync runs elsewhere: writes the buffered frames (closing the open block) and
    /// returns the sync to run, nil when nothing written is waiting for an fsync. A sync still running is settled
    /// first: one at a time.
    public func beginSync() throws -> SegmentSync? {
        try settleSync()
        try flush()
        guard unsyncedBytes || pendingSeal != nil else { return nil }
        let sync = SegmentSync(
            segment: activeSegment, file: file, journal: journal, syncsActive: unsyncedBytes, seal: pendingSeal,
            faults: configuration.faults, point: written)
        unsyncedBytes = false
        syncing = sync
        return sync
    }

    /// Waits for the sync begun by `beginSync()`, if one is, and takes its outcome: the durable point moves to where
    /// it began, or the writer stops until `repair()` (and the error is thrown).
    public func settleSync() throws {
        guard let sync = syncing else { return }
        syncing = nil
        if let error = sync.wait() {
            // What it covered may not be on the disk: the next sync writes it again, or a repair cuts it off.
            unsyncedBytes = true
            if let seal = pendingSeal, sync.sealSegment == seal.sealed.segment || sync.segment == seal.sealed.segment {
                pendingSeal!.syncFailed = true
            }
            if failed == nil { failed = error }
            throw error
        }
        if var seal = pendingSeal {
            if sync.sealSegment == seal.sealed.segment {
                finishPendingSeal()
            } else if sync.syncsActive, sync.segment == seal.sealed.segment {
                // Begun before the seal: it made the sealed segment's records durable up to where it began.
                settled(sync, inSealed: &seal)
                pendingSeal = seal
            }
        }
        // A seal or a new segment since made more durable, and settled first: nothing to move then.
        guard sync.syncsActive, sync.segment == activeSegment, !activeSealed, sync.point.bytes > durable.bytes
        else { return }
        durable = sync.point
    }
}
