import Foundation
import Glibc
import Logging
import TollgateModel

/// The steps of compacting one segment, in order. A crash after any of them leaves the old segment (before
/// `committed`) or the new one (from `committed` on); opening the store finishes or undoes what was left.
///
/// A segment with a live log is rewritten; one whose logs are all deleted is dropped: its usage archive takes the
/// rewritten file's place in each step.
public enum CompactionStep: Int, CaseIterable, Sendable, Comparable {
    /// `<seq>.seg.compact` (a drop: `usage/<seq>.usage.new`) is written and fsynced beside the old file. A crash
    /// now: the old file is the truth; the open deletes the new one.
    case rewritten = 1
    /// The catalog committed, in one transaction: the journal row, the new locations of the live logs (a drop: the
    /// segment's row removed), the tombstones forgotten. A crash now: the open puts the new file into place.
    case committed
    /// The rewritten file was renamed over the old one and `segments/` fsynced (a drop: the archive renamed into
    /// place, then the segment file deleted). A crash now: the open finds nothing to do but delete the journal row.
    case installed
    /// The journal row is deleted: the compaction is over.
    case finished

    public static func < (a: CompactionStep, b: CompactionStep) -> Bool { a.rawValue < b.rawValue }
}

/// What a compaction pass did.
public struct CompactionReport: Sendable, Equatable {
    /// Segments rewritten (they still hold live logs).
    public var segments = 0
    /// Segments dropped whole (all their logs deleted); their usage records went to usage archives.
    public var dropped = 0
    /// Deleted logs whose content left the segments (now usage records).
    public var purged = 0
    /// Sizes of the compacted segments before, and of what replaced them (rewritten files, usage archives) after.
    public var bytesBefore: Int64 = 0
    public var bytesAfter: Int64 = 0
    /// Segments holding deleted logs that this pass could not touch yet: the active segment, and those at or
    /// after the rollups' checkpoint position.
    public var deferred = 0
    /// The longest segment commit transaction (ms): how long the ingest writer may have waited for the catalog.
    public var longestCommitMillis = 0.0
    public init() {}
}

/// Raised by the crash-test hook: the compaction stopped after a step, as if the process died there.
struct CompactionInterrupted: Error {
    var step: CompactionStep
}

extension LogStore {
    /// Compacts every sealed segment that holds deleted logs (of `account`, when given), and their bytes leave the
    /// disk: a segment still holding a live log is rewritten with its deleted logs turned into usage records; a
    /// segment whose logs are all deleted is dropped whole, its usage records kept in a usage archive. Runs on the
    /// caller's thread; the ingest writer keeps appending meanwhile (the active segment is never compacted), and
    /// waits for the catalog only while one segment's commit transaction runs.
    ///
    /// Segments after the rollups' checkpoint (`LogStoreObserver.replayPosition`), and the checkpoint's own
    /// segment unless the checkpoint is at its last record, are left for a later pass, so the records a restart
    /// would replay keep their positions and are never folded twice or skipped.
    ///
    /// - Parameters:
    ///   - progress: (segments done, segments to do), after each segment.
    ///   - shouldStop: asked between segments; true ends the pass early (graceful shutdown).
    @discardableResult
    public func compact(
        account: String? = nil, progress: (_ done: Int, _ total: Int) -> Void = { _, _ in },
        shouldStop: () -> Bool = { false }
    ) throws -> CompactionReport {
        try compact(account: account, progress: progress, shouldStop: shouldStop, stopAfter: nil)
    }

    /// `compact` with the crash-test hook: `stopAfter` throws `CompactionInterrupted` right after that step of
    /// the first segment, leaving the files and the catalog as a `kill -9` there would.
    func compact(
        account: String?, progress: (_ done: Int, _ total: Int) -> Void, shouldStop: () -> Bool,
        stopAfter: CompactionStep?
    ) throws -> CompactionReport {
        try compactionLock.withLock { _ in
            var report = CompactionReport()
            let candidates = try catalog.tombstonedSegments(account: account).map(\.segment)
            let active = state.withLock { $0.writer.activeSegment }
            let position = try observer?.replayPosition()
            let sealed = Dictionary(
                try catalog.segments().filter { $0.state == .sealed }.map { ($0.seq, $0) },
                uniquingKeysWith: { a, _ in a })
            let eligible = try candidates.filter { seq in
                guard seq < active, sealed[seq] != nil else { return false }
                guard let position, seq >= position.segment else { return true }
                // The checkpoint's own segment only when the checkpoint is at its last record: a replay skips every
                // record of it, whatever offsets the rewrite gives them (offsets only shrink).
                guard seq == position.segment, let last = try reader.columns(of: seq).offsets.max() else {
                    return false
                }
                return position.offset >= last
            }
            report.deferred = candidates.count - eligible.count
            progress(0, eligible.count)
            for (done, seq) in eligible.enumerated() {
                if shouldStop() { break }
                guard let entry = sealed[seq] else { continue }
                try compactSegment(entry, into: &report, stopAfter: stopAfter)
                progress(done + 1, eligible.count)
            }
            if report.segments + report.dropped > 0 {
                logger.info(
                    "compacted segments",
                    metadata: [
                        "compaction.segments": "\(report.segments)", "compaction.dropped": "\(report.dropped)",
                        "compaction.purged": "\(report.purged)",
                        "compaction.bytes_before": "\(report.bytesBefore)",
                        "compaction.bytes_after": "\(report.bytesAfter)",
                    ])
            }
            return report
        }
    }

    private func compactSegment(
        _ entry: SegmentEntry, into report: inout CompactionReport, stopAfter: CompactionStep?
    ) throws {
        func reached(_ step: CompactionStep) throws {
            if stopAfter == step { throw CompactionInterrupted(step: step) }
        }
        let seq = entry.seq
        let purge = try catalog.tombstones(segment: seq)
        guard !purge.isEmpty else { return }
        let now = configuration.segments.clock.wallMilliseconds()
        // Every tombstone read is forgotten at the commit: its record is a usage record now, or it named no logged
        // record of this segment. Tombstones added since were not read and stay for the next pass (a drop has none:
        // every log of its segment was deleted already).
        let commit: () throws -> Void
        let install: () throws -> Void
        var done = CompactionReport()
        switch try SegmentCompaction.compact(segment: seq, reader: reader, purge: purge) {
        case .rewrite(let rewrite):
            var updated = entry
            updated.recordCount = Int64(rewrite.footer.recordCount)
            updated.bytes = Int64(rewrite.bytes)
            updated.firstCreatedAt = rewrite.firstCreatedAt
            updated.lastCreatedAt = rewrite.lastCreatedAt
            commit = {
                try self.catalog.commitCompaction(
                    segment: updated,
                    relocated: rewrite.relocated.map { Catalog.Relocation(key: $0.key, location: $0.location) },
                    purged: Array(purge), at: now)
            }
            install = { try SegmentCompaction.install(segment: seq, segmentsPath: self.reader.segmentsPath) }
            done.segments = 1
            done.purged = rewrite.purged.count
            done.bytesBefore = Int64(rewrite.bytesBefore)
            done.bytesAfter = Int64(rewrite.bytes)
        case .drop(let drop):
            commit = { try self.catalog.commitDrop(segment: seq, purged: Array(purge), at: now) }
            install = { try Self.installDrop(segment: seq, directory: self.directory) }
            done.dropped = 1
            done.purged = drop.purged.count
            done.bytesBefore = Int64(drop.bytesBefore)
            done.bytesAfter = Int64(drop.bytes)
        }
        try reached(.rewritten)
        let commitStarted = configuration.segments.clock.monotonicNanoseconds()
        try commit()
        let commitTime = configuration.segments.clock.elapsed(since: commitStarted).components
        report.longestCommitMillis = max(
            report.longestCommitMillis, Double(commitTime.seconds) * 1e3 + Double(commitTime.attoseconds) / 1e15)
        try reached(.committed)
        try install()
        try catalog.sealedSegmentRewritten(seq, purged: Array(purge))
        reader.forget(segment: seq)
        try reached(.installed)
        try catalog.finishCompaction(seq: seq)
        try reached(.finished)
        report.segments += done.segments
        report.dropped += done.dropped
        report.purged += done.purged
        report.bytesBefore += done.bytesBefore
        report.bytesAfter += done.bytesAfter
    }

    /// Puts a committed drop in place: the usage archive renamed into place (if not yet), then the segment file
    /// deleted (if still there), each followed by an fsync of its folder.
    static func installDrop(segment seq: UInt32, directory: String) throws {
        try UsageArchive.install(segment: seq, directory: directory)
        let segmentsPath = directory + "/" + SegmentFormat.segmentsDirectory
        let path = segmentsPath + "/" + SegmentFormat.fileName(seq)
        if access(path, F_OK) == 0 {
            try SegmentDirectory.remove(path)
            try SegmentDirectory.sync(segmentsPath)
        }
    }

    /// On open, before anything reads a segment: puts the new file of every journaled compaction into place (or
    /// finds it done) — the rewritten file renamed over the old one, or for a drop the usage archive renamed into
    /// place and the segment file deleted —, clears the journal, and deletes the new files no commit names.
    static func recoverCompactions(catalog: Catalog, directory: String) throws {
        let segmentsPath = directory + "/" + SegmentFormat.segmentsDirectory
        for pending in try catalog.pendingCompactions() {
            if pending.dropped {
                try installDrop(segment: pending.seq, directory: directory)
            } else {
                try SegmentCompaction.install(segment: pending.seq, segmentsPath: segmentsPath)
            }
            try catalog.finishCompaction(seq: pending.seq)
        }
        try SegmentCompaction.removeUncommitted(segmentsPath: segmentsPath)
        try UsageArchive.removeUncommitted(directory: directory)
    }

    /// `logs` of segment `seq` without those deleted from the index (tombstoned): recovery must not bring a
    /// deleted log back.
    static func withoutDeleted(_ logs: [Catalog.ActiveLog], segment seq: UInt32, catalog: Catalog) throws
        -> [Catalog.ActiveLog]
    {
        guard !logs.isEmpty else { return logs }
        let deleted = try catalog.tombstones(segment: seq)
        guard !deleted.isEmpty else { return logs }
        return logs.filter { !deleted.contains(LogKey(account: $0.record.account, id: $0.record.id)) }
    }
}
