import Foundation
import Logging
import Synchronization
import TollgateModel

/// The log store: segment files hold the records (the truth), the catalog's log index says where each one is.
///
/// Write path (one writer thread, the ingest service's): `append` encodes, compresses and buffers records in the
/// active segment; `commit` — the group commit, which the ingest service calls on its interval — fsyncs the segment
/// and then indexes what became durable, so a record is listed only once it survives a crash. Rotation seals
/// segments (index + columns + footer, fsynced); the catalog marks a segment sealed only after all its records are
/// indexed.
///
/// Recovery (on open): the segment writer scans only the unsealed tail, cuts a torn tail, and hands back the
/// records it found; they are re-indexed (`INSERT OR IGNORE`). A segment sealed on disk that the catalog does not
/// know as sealed (a crash between sealing and the next commit) is scanned and indexed too; nothing else is read.
///
/// Reads (`record(account:id:)`) go through the catalog and `SegmentReader` (pread, thread-safe) and never take the
/// writer's lock.
public final class LogStore: Sendable {
    public struct Configuration: Sendable {
        public var segments = SegmentWriter.Configuration()
        public var catalog = Catalog.Configuration()
        public init() {}
    }

    /// Counters since open.
    public struct Statistics: Sendable, Equatable {
        /// Records appended to a segment.
        public var recordsAppended = 0
        /// Records that could not be appended (encoding or I/O errors).
        public var recordsFailed = 0
        /// Records durable and indexed.
        public var recordsCommitted = 0
        /// Records re-indexed from the tail on open.
        public var recordsRecovered = 0
    }

    /// The writer's state; only touched under `state`'s lock.
    struct WriterState: ~Copyable {
        let writer: SegmentWriter
        let seals: SealLog
        var pending: [LogIndexEntry] = []
        var indexedActiveSegment: UInt32 = 0
        /// The newest record appended, for the observer's `committed(through:)`.
        var lastAppended: RecordLocation?
    }

    /// Segments sealed since the last commit, filled by the writer's `onSeal` callback (called under the lock).
    final class SealLog {
        var sealed: [SealedSegment] = []
    }

    public let catalog: Catalog
    public let reader: SegmentReader
    public let directory: String
    let state: Mutex<WriterState>
    private let counters = Mutex(Statistics())
    let logger: Logger
    let observer: (any LogStoreObserver)?
    /// Held by a compaction pass and by `replay`, so a replay never reads a segment while it is replaced.
    let compactionLock = Mutex(0)
    private let lock: DataFolderLock

    /// Opens the store in `directory`, recovering its tail.
    ///
    /// - Parameter observer: prices every record indexed and follows appends and commits (rollups); nil leaves
    ///   costs unknown.
    /// - Parameter catalog: the catalog of `directory` if the caller opened it already (to read prices before the
    ///   store recovers); nil opens it.
    public init(
        directory: String, configuration: Configuration = .init(), catalog: Catalog? = nil,
        observer: (any LogStoreObserver)? = nil, logger: Logger
    ) throws {
        self.directory = directory
        self.logger = logger
        self.observer = observer
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.lock = try DataFolderLock(directory: directory)
        let catalog =
            try catalog ?? Catalog(dataDirectory: directory, configuration: configuration.catalog, logger: logger)
        let reader = SegmentReader(directory: directory)
        self.catalog = catalog
        self.reader = reader
        // Finish the compactions that committed (rename their rewritten file into place) and drop the rewritten
        // files of those that did not: either way the segment set is whole again before anything reads it.
        try Self.recoverCompactions(catalog: catalog, directory: directory)

        var recovered: [LogIndexEntry] = []
        let writer = try SegmentWriter(directory: directory, configuration: configuration.segments, logger: logger) {
            location, record in
            guard record.logged else { return }  // a usage record is never indexed
            recovered.append(LogIndexEntry(record, location: location, cost: observer?.cost(of: record)))
        }
        // Index what the tail held; the catalog ignores ids it already has, and deleted logs stay deleted.
        recovered = try Self.withoutDeleted(recovered, segments: writer.recovery.scannedSegments, catalog: catalog)
        try catalog.insertLogs(recovered)

        // Sealed segments the catalog has not marked sealed: sealed just before a crash, maybe not fully indexed.
        let knownSealed = Set(try catalog.segments().filter { $0.state == .sealed }.map(\.seq))
        let scanned = Set(writer.recovery.scannedSegments)
        for seq in try reader.segments() where seq != writer.activeSegment && !knownSealed.contains(seq) {
            guard let footer = try reader.footer(of: seq) else { continue }
            if !scanned.contains(seq) {
                var entries: [LogIndexEntry] = []
                try reader.forEachRecord(in: seq) { location, record in
                    guard record.logged else { return }
                    entries.append(LogIndexEntry(record, location: location, cost: observer?.cost(of: record)))
                }
                entries = try Self.withoutDeleted(entries, segments: [seq], catalog: catalog)
                try catalog.insertLogs(entries)
                recovered += entries
            }
            try Self.recordSealed(seq: seq, footer: footer, bytes: nil, in: catalog, reader: reader)
        }
        try catalog.upsertSegment(SegmentEntry(seq: writer.activeSegment, state: .active))
        if !recovered.isEmpty || !writer.recovery.cuts.isEmpty {
            logger.info(
                "log store recovered",
                metadata: [
                    "segment.scanned": "\(writer.recovery.scannedSegments)",
                    "segment.records_reindexed": "\(recovered.count)",
                    "segment.cuts":
                        "\(writer.recovery.cuts.map { "\($0.segment)@\($0.offset): \($0.bytesCut) bytes, \($0.reason)" })",
                ])
        }

        let seals = SealLog()
        writer.onSeal = { seals.sealed.append($0) }
        state = Mutex(WriterState(writer: writer, seals: seals, indexedActiveSegment: writer.activeSegment))
        counters.withLock { $0.recordsRecovered = recovered.count }
    }

    /// Appends records to the active segment. They become durable and listed at the next `commit()`. A usage record
    /// (`logged == false`) is stored and passed to the observer but never indexed as a log.
    public func append(_ records: [LogRecord]) throws {
        var appended = 0
        defer { counters.withLock { $0.recordsAppended += appended } }
        try state.withLock { state in
            for record in records {
                do {
                    let location = try state.writer.append(record)
                    let entry = LogIndexEntry(record, location: location, cost: observer?.cost(of: record))
                    if record.logged { state.pending.append(entry) }
                    state.lastAppended = location
                    observer?.appended(entry)
                    appended += 1
                } catch {
                    counters.withLock { $0.recordsFailed += records.count - appended }
                    throw error
                }
            }
        }
    }

    /// Group commit: fsync the active segment, index what is now durable, record sealed segments, and seal the
    /// active segment if it is older than its maximum age.
    public func commit() throws {
        try state.withLock { state in
            try state.writer.sync()
            try index(&state)
            if try state.writer.sealIfDue() { try index(&state) }
            try observer?.committed(through: state.lastAppended)
        }
    }

    /// Commits, then runs `body` with the newest durable record's location while the writer still waits: no
    /// append interleaves, so derived state (rollups) can be changed and checkpointed at a position that is exact.
    public func afterCommit<T>(_ body: (RecordLocation?) throws -> T) throws -> T {
        try state.withLock { state in
            try state.writer.sync()
            try index(&state)
            try observer?.committed(through: state.lastAppended)
            return try body(state.lastAppended)
        }
    }

    /// Clean shutdown: commit, seal the active segment, index the rest. The store is unusable afterwards.
    public func close() throws {
        try state.withLock { state in
            try state.writer.close(seal: true)
            try index(&state)
            try observer?.committed(through: state.lastAppended)
        }
        lock.release()
    }

    /// Calls `body` with the index entry (cost from the observer) of every stored record after `location`, in
    /// append order: every record when `location` is nil. For rebuilding derived state (rollups) from the segments,
    /// which are the truth. Runs under the writer lock, so no append interleaves.
    public func replay(after location: RecordLocation?, _ body: (LogIndexEntry) throws -> Void) throws {
        try compactionLock.withLock { _ in try replayUnlocked(after: location, body) }
    }

    /// A dropped segment's usage archive is read in its place: its records come at the positions they had.
    private func replayUnlocked(after location: RecordLocation?, _ body: (LogIndexEntry) throws -> Void) throws {
        try state.withLock { _ in
            let files = try reader.segments()
            let archives = try UsageArchive.segments(in: directory)
            let present = Set(files)
            for seq in Set(files).union(archives).sorted() where seq >= (location?.segment ?? 0) {
                func visit(_ at: RecordLocation, _ record: LogRecord) throws {
                    if let location, seq == location.segment, at.offset <= location.offset { return }
                    try body(LogIndexEntry(record, location: at, cost: observer?.cost(of: record)))
                }
                if present.contains(seq) {
                    try reader.forEachRecord(in: seq, visit)
                } else {
                    for entry in try UsageArchive.read(segment: seq, directory: directory) {
                        try visit(entry.location, entry.record)
                    }
                }
            }
        }
    }

    /// Requests stored: records in the segments (sealed ones as the catalog counts them, and the active tail) and
    /// in the usage archives of dropped segments.
    public func storedRecordCount() throws -> Int {
        var total = Int(try catalog.segments().reduce(0) { $0 + $1.recordCount }) + (try tailRecordCount())
        for seq in try UsageArchive.segments(in: directory) {
            total += try UsageArchive.count(segment: seq, directory: directory)
        }
        return total
    }

    /// A record of `account` by id, or nil if the account has no such log.
    public func record(account: String, id: LogID) throws -> LogRecord? {
        try lookup(account: account, id: id)?.record
    }

    /// A log of `account` by id: its index entry (fields and location) and the stored record.
    ///
    /// A compaction moves records: between its catalog commit and the rename of the rewritten file (a few
    /// milliseconds) an entry can point into a file not yet in place, or a cached descriptor into the file just
    /// replaced. A read that fails or finds another id is therefore retried a few times from the catalog, with the
    /// segment's cached descriptor dropped, before it is an error.
    public func lookup(account: String, id: LogID) throws -> (entry: LogIndexEntry, record: LogRecord)? {
        let attempts = 25
        for attempt in 1...attempts {
            guard let entry = try catalog.logEntry(account: account, id: id) else { return nil }
            do {
                let record = try reader.read(entry.location)
                if record.id == id { return (entry, record) }
                if attempt == attempts {
                    throw SegmentError(.corrupt, "the record at \(entry.location) is not log \(id)")
                }
            } catch  where attempt < attempts {}
            reader.forget(segment: entry.location.segment)
            usleep(2_000)
        }
        return nil
    }

    public var statistics: Statistics { counters.withLock { $0 } }

    /// For crash tests: makes appended records durable without indexing them, as if the process died between the
    /// two steps of a commit.
    func syncWithoutIndexing() throws {
        try state.withLock { try $0.writer.sync() }
    }

    /// Records in the active (unsealed) segment.
    public func tailRecordCount() throws -> Int {
        state.withLock { $0.writer.activeRecordCount }
    }

    /// Indexes pending entries (after they were synced) and then marks segments sealed; keeps the entries for
    /// the next try if the catalog write fails.
    private func index(_ state: inout WriterState) throws {
        if !state.pending.isEmpty {
            try catalog.insertLogs(state.pending)
            let count = state.pending.count
            counters.withLock { $0.recordsCommitted += count }
            state.pending.removeAll(keepingCapacity: true)
        }
        let sealed = state.seals.sealed
        state.seals.sealed.removeAll()
        for segment in sealed {
            try Self.recordSealed(
                seq: segment.segment, footer: segment.footer, bytes: Int64(segment.bytes), in: catalog, reader: reader)
        }
        if state.writer.activeSegment != state.indexedActiveSegment {
            try catalog.upsertSegment(SegmentEntry(seq: state.writer.activeSegment, state: .active))
            state.indexedActiveSegment = state.writer.activeSegment
        }
    }

    private static func recordSealed(
        seq: UInt32, footer: SegmentFooter, bytes: Int64?, in catalog: Catalog, reader: SegmentReader
    ) throws {
        let size =
            try bytes
            ?? Int64(
                (try? FileManager.default.attributesOfItem(
                    atPath: reader.directory + "/segments/" + SegmentFormat.fileName(seq))[.size] as? Int) ?? 0)
        let empty = footer.recordCount == 0
        try catalog.upsertSegment(
            SegmentEntry(
                seq: seq, state: .sealed,
                firstCreatedAt: empty ? nil : footer.minID.milliseconds,
                lastCreatedAt: empty ? nil : footer.maxID.milliseconds,
                recordCount: Int64(footer.recordCount), bytes: size,
                sealedAt: Int64(Date().timeIntervalSince1970 * 1000)))
    }
}
