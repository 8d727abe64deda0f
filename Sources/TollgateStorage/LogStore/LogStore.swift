import CSQLite
import Foundation
import Logging
import Synchronization
import TollgateModel

/// The log store: segment files hold the records (the truth), the catalog's log index says where each one is.
///
/// Write path (one writer thread, the ingest service's): `append` encodes, compresses and buffers records in the
/// active segment; the group commit, which the ingest service runs on its interval, fsyncs the segment and then
/// indexes what became durable (the logs join the catalog's in-memory columns of the segment,
/// `Catalog.addActiveLogs`; no row per log), so a record is listed only once it survives a crash. Its fsync runs
/// without the writer's lock (`beginCommit`, `SegmentSync.run`, `finishCommit`: LogStore+GroupCommit.swift), so
/// appends go on while the disk works; `commit()` runs the three in a row. Rotation seals segments (index +
/// columns + footer, fsynced); the catalog marks a segment sealed only after all its records are indexed.
///
/// Recovery (on open): the segment writer scans only the unsealed tail, cuts a torn tail, and hands back the
/// records it found; their logs are the catalog's again (`Catalog.restoreActiveLogs`: rebuilt in memory, deleted ones
/// left out, those not counted yet counted). A segment sealed on disk that the catalog does not know as sealed (a
/// crash between sealing and the next commit) is scanned and restored too; nothing else is read.
///
/// Faults (a full disk, `EIO`): a failed write, fsync or catalog commit does not stop the store. The segment is cut
/// back to its last durable frame, the records after it (appended, never durable) are counted as failed and taken
/// back from the observer, and the store retries at every new batch and on the commit interval with backoff
/// (`WriteHealth`) until a write succeeds; then it goes on without a restart. Records a commit made durable stay;
/// a record is indexed only once it is durable. The state is in `writeStatus`; a warning is logged once per change.
///
/// Reads (`record(account:id:)`) go through the catalog and `SegmentReader` (pread, thread-safe) and never take the
/// writer's lock.
public final class LogStore: Sendable {
    public struct Configuration: Sendable {
        public var segments = SegmentWriter.Configuration()
        public var catalog = Catalog.Configuration()
        /// After a failed write, the first retry with nothing new to write waits this long (milliseconds)...
        public var retryInitialMillis: Int64 = 250
        /// ...doubling up to this.
        public var retryMaxMillis: Int64 = 5_000
        /// A retry with nothing new to write proves the disk takes writes again by writing (and fsyncing, then
        /// cutting off) this many bytes after the active segment's last frame. 0: no such retry.
        public var probeBytes = 1 << 20
        public init() {}
    }

    /// Counters since open.
    public struct Statistics: Sendable, Equatable {
        /// Records appended to a segment and not lost to a failed write since.
        public var recordsAppended = 0
        /// Records that could not be stored: encoding errors, and I/O errors (the records of the failed batch and
        /// those appended earlier that were not durable yet).
        public var recordsFailed = 0
        /// Records durable and indexed.
        public var recordsCommitted = 0
        /// Records re-indexed from the tail on open.
        public var recordsRecovered = 0
        /// Records read back from the unsealed tail on open: its logs, re-indexed, and its usage records, which are not.
        public var recordsScanned = 0
        /// Records appended, then lost to a failed write before they were durable (counted in `recordsFailed`).
        public var recordsDiscarded = 0
    }

    /// Whether the store can write, with its counters.
    public struct WriteStatus: Sendable, Equatable {
        public var health: WriteHealth
        public var statistics: Statistics
        /// Ready: the last write (or retry) succeeded.
        public var isReady: Bool { health.isHealthy }
    }

    /// The writer's state; only touched under `state`'s lock.
    struct WriterState: ~Copyable {
        let writer: SegmentWriter
        let seals: SealLog
        /// Logs appended since the last commit indexed them, with their records (which their columns are made of).
        var pending: [Catalog.ActiveLog] = []
        /// The writer's column values of the pending logs, one each, in the same order.
        var pendingColumns = Catalog.ActiveColumns()
        var indexedActiveSegment: UInt32 = 0
        /// The newest record appended, for the observer's `committed(through:)`.
        var lastAppended: RecordLocation?
        /// The newest record known durable.
        var lastDurable: RecordLocation?
        /// Usage records appended since the last successful sync: with the pending entries (logs), what a failed
        /// write may lose. Logs are not kept twice: the pending entries after the durable end are the lost ones.
        var unsyncedUsage: [LogIndexEntry] = []
        /// The commit begun by `beginCommit()` and not finished: the logs and usage records appended before it
        /// began, which its fsync makes durable. They come before `pending` and `unsyncedUsage` in append order.
        var inFlight: InFlightCommit?
        var health: WriteHealth
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
    /// A copy of the writer's health, readable without waiting for the writer lock.
    private let healthCopy: Mutex<WriteHealth>
    let configuration: Configuration
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
        self.configuration = configuration
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

        var recovered: [UInt32: [Catalog.ActiveLog]] = [:]
        var scannedRecords = 0
        let writer = try SegmentWriter(directory: directory, configuration: configuration.segments, logger: logger) {
            location, record in
            scannedRecords += 1
            guard record.logged else { return }  // a usage record is never indexed
            recovered[location.segment, default: []].append(
                Catalog.ActiveLog(record, location: location, price: observer?.price(of: record)))
        }
        // The logs the tail held are the catalog's again; deleted logs stay deleted.
        var recoveredCount = 0
        for seq in writer.recovery.scannedSegments {
            let logs = try Self.withoutDeleted(recovered[seq] ?? [], segment: seq, catalog: catalog)
            try catalog.restoreActiveLogs(segment: seq, logs)
            recoveredCount += logs.count
        }

        // Sealed segments the catalog has not marked sealed: sealed just before a crash, maybe not fully indexed.
        let knownSealed = Set(try catalog.segments().filter { $0.state == .sealed }.map(\.seq))
        let scanned = Set(writer.recovery.scannedSegments)
        for seq in try reader.segments() where seq != writer.activeSegment && !knownSealed.contains(seq) {
            guard let footer = try reader.footer(of: seq) else { continue }
            if !scanned.contains(seq) {
                var logs: [Catalog.ActiveLog] = []
                try reader.forEachRecord(in: seq) { location, record in
                    guard record.logged else { return }
                    logs.append(Catalog.ActiveLog(record, location: location, price: observer?.price(of: record)))
                }
                logs = try Self.withoutDeleted(logs, segment: seq, catalog: catalog)
                try catalog.restoreActiveLogs(segment: seq, logs)
                recoveredCount += logs.count
            }
            try Self.recordSealed(
                seq: seq, footer: footer, bytes: nil, rows: nil, at: configuration.segments.clock.wallMilliseconds(),
                in: catalog,
                reader: reader)
        }
        try catalog.upsertSegment(SegmentEntry(seq: writer.activeSegment, state: .active))
        if scannedRecords > 0 || recoveredCount > 0 || !writer.recovery.cuts.isEmpty {
            logger.info(
                "log store recovered",
                metadata: [
                    "segment.scanned": "\(writer.recovery.scannedSegments)",
                    "segment.records_scanned": "\(scannedRecords)",
                    "segment.records_reindexed": "\(recoveredCount)",
                    "segment.cuts":
                        "\(writer.recovery.cuts.map { "\($0.segment)@\($0.offset): \($0.bytesCut) bytes, \($0.reason)" })",
                ])
        }

        let seals = SealLog()
        writer.onSeal = { seals.sealed.append($0) }
        let health = WriteHealth(
            initialRetryMillis: configuration.retryInitialMillis, maxRetryMillis: configuration.retryMaxMillis)
        healthCopy = Mutex(health)
        state = Mutex(
            WriterState(writer: writer, seals: seals, indexedActiveSegment: writer.activeSegment, health: health))
        counters.withLock {
            $0.recordsRecovered = recoveredCount
            $0.recordsScanned = scannedRecords
        }
    }

    /// What the store records as `record`'s cost: its observer's price (picodollars), nil without an observer or
    /// when the record is unpriced.
    public func price(of record: LogRecord) -> Int64? { observer?.price(of: record) }

    /// Appends records to the active segment. They become durable and listed at the next `commit()`. A usage record
    /// (`logged == false`) is stored and passed to the observer but never indexed as a log.
    ///
    /// After a failed write the store first repairs the writer (cuts the segment back to its last durable frame);
    /// while it cannot, or when this batch's write fails, the batch's records are counted as failed and the error is
    /// thrown. A record the writer refuses by itself (too large) is counted as failed and skipped.
    ///
    /// `prices`: each record's price as `price(of:)` gives it, when the caller has it already; the store prices the
    /// records itself otherwise.
    public func append(_ records: [LogRecord], prices: [Int64?]? = nil) throws {
        precondition(prices == nil || prices?.count == records.count)
        try state.withLock { state in
            if state.writer.needsRepair {
                do {
                    try repair(&state)
                } catch {
                    counters.withLock { $0.recordsFailed += records.count }
                    fail(&state, .repair, error)
                    throw error
                }
            }
            var appended = 0
            var refused: (any Error)?
            // Each record is read where it lies in the array, and handed on as a pointer: a loop variable, or a
            // record passed by value, would be a copy of it (a retain and a release of each of its strings and
            // buffers).
            try records.withUnsafeBufferPointer { records in
                guard let first = records.baseAddress else { return }
                for position in records.indices {
                    let record = first + position
                    let location: RecordLocation
                    do {
                        location = try state.writer.append(record)
                    } catch  where !state.writer.needsRepair {
                        counters.withLock { $0.recordsFailed += 1 }
                        refused = refused ?? error
                        continue
                    } catch {
                        counters.withLock {
                            $0.recordsAppended += appended
                            $0.recordsFailed += records.count - position
                        }
                        fail(&state, Self.operation(of: error, writerFailed: true), error)
                        throw error
                    }
                    let price = prices.map { $0[position] } ?? observer?.price(of: records[position])
                    // An index entry is made only for a usage record; the observer reads the record itself.
                    if record.pointee.logged {
                        state.pending.append(Catalog.ActiveLog(record, location: location, price: price))
                        withUnsafePointer(to: &state.writer.activeColumns) { state.pendingColumns.add(lastRowOf: $0) }
                    } else {
                        state.unsyncedUsage.append(LogIndexEntry(record, location: location, price: price))
                    }
                    state.lastAppended = location
                    observer?.appended(record, price: price)
                    appended += 1
                }
            }
            counters.withLock { $0.recordsAppended += appended }
            if let refused { throw refused }
        }
    }

    /// Group commit: fsync the active segment, index what is now durable, record sealed segments, and seal the
    /// active segment if it is older than its maximum age. `beginCommit()`, the fsync, then `finishCommit(_:)`, on
    /// the calling thread.
    ///
    /// While the store cannot write, a commit with nothing new to write only retries once the backoff has passed
    /// (it throws `.io` without I/O before that); the retry writes a probe to prove the disk takes writes again.
    public func commit() throws {
        guard let sync = try beginCommit() else { return }
        sync.run()
        try finishCommit(sync)
    }

    /// A whole commit under the lock: the fsync too. For a store that cannot write (its retries and probes), and
    /// when nothing new waits for an fsync.
    func commitHoldingLock(_ state: inout WriterState) throws {
        let now = configuration.segments.clock.wallMilliseconds()
        if let failure = state.health.failure, !state.writer.hasUnsyncedRecords,
            !state.health.isRetryDue(now: now) || configuration.probeBytes <= 0
        {
            throw SegmentError(
                .io,
                "log store cannot write since \(RFC3339.format(milliseconds: failure.since)) (\(failure.reason)); "
                    + "next retry at \(RFC3339.format(milliseconds: failure.nextRetryAt))")
        }
        let probes = state.health.failure != nil && !state.writer.hasUnsyncedRecords
        try committing(&state, writes: probes || state.writer.hasUnsyncedRecords) { state in
            if state.writer.needsRepair { try repair(&state) }
            if probes { try state.writer.probe(bytes: configuration.probeBytes) }
            try syncAndIndex(&state)
            if try state.writer.sealIfDue() { try index(&state) }
            observer?.commitBegan()
            try observer?.committed(through: state.lastAppended)
        }
    }

    /// Commits, then runs `body` with the newest durable record's location while the writer still waits: no
    /// append interleaves, so derived state (rollups) can be changed and checkpointed at a position that is exact.
    public func afterCommit<T>(_ body: (RecordLocation?) throws -> T) throws -> T {
        try state.withLock { state in
            try committing(&state, writes: state.writer.hasUnsyncedRecords) { state in
                try syncAndIndex(&state)
                observer?.commitBegan()
                try observer?.committed(through: state.lastAppended)
            }
            return try body(state.lastAppended)
        }
    }

    /// Clean shutdown: commit, seal the active segment, index the rest, checkpoint the catalog. The store is
    /// unusable afterwards. A store that cannot write tries once more; what it cannot make durable is lost, as in a
    /// crash, and never indexed.
    public func close() throws {
        defer { lock.release() }
        try state.withLock { state in
            // A commit in flight is waited for; a failed fsync of it was counted, and the close tries once more.
            try? settleInFlight(&state)
            try committing(&state, writes: state.writer.hasUnsyncedRecords) { state in
                if state.writer.needsRepair { try repair(&state) }
                try state.writer.close(seal: true)
                markDurable(&state)
                try index(&state)
                observer?.commitBegan()
                try observer?.committed(through: state.lastAppended)
            }
        }
        // Everything is committed: the catalog's write-ahead log goes into its file, which a stopped gateway's
        // folder then holds whole. Not done is not lost (the log is read at the next open), so only logged.
        do {
            if try !catalog.checkpoint() {
                logger.info("catalog write-ahead log left for the next checkpoint: a reader held a snapshot")
            }
        } catch {
            logger.warning("catalog checkpoint at close failed", metadata: ["error": "\(error)"])
        }
    }

    /// Whether the store can write, since when it cannot and why, and its counters. Does not wait for the writer.
    public var writeStatus: WriteStatus {
        WriteStatus(health: healthCopy.withLock { $0 }, statistics: statistics)
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
                    try body(LogIndexEntry(record, location: at, price: observer?.price(of: record)))
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
            guard let (entry, read) = try catalog.log(account: account, id: id) else { return nil }
            do {
                let record = try read ?? reader.read(entry.location, metadata: entry.metadataRecord)
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
        try state.withLock {
            try settleInFlight(&$0)
            try $0.writer.sync()
        }
    }

    /// Records in the active (unsealed) segment.
    public func tailRecordCount() throws -> Int {
        state.withLock { $0.writer.activeRecordCount }
    }

    /// Indexes the logs of the commit in flight (once its fsync succeeded) and, unless `durableOnly`, the pending
    /// ones (after they were synced), then marks segments sealed; keeps the logs and the seals for the next try if
    /// the catalog write fails. A sealed segment is marked only once none of its logs waits.
    func index(_ state: inout WriterState, durableOnly: Bool = false) throws {
        if let inFlight = state.inFlight {
            precondition(inFlight.settled, "a commit's logs are indexed only after its fsync")
            if !inFlight.logs.isEmpty {
                try configuration.segments.faults?.check(.catalogCommit, call: "insert", path: catalog.path)
                try catalog.addActiveLogs(inFlight.logs, columns: inFlight.columns)
                counters.withLock { $0.recordsCommitted += inFlight.logs.count }
            }
            state.inFlight = nil
        }
        if !durableOnly && !state.pending.isEmpty {
            try configuration.segments.faults?.check(.catalogCommit, call: "insert", path: catalog.path)
            try catalog.addActiveLogs(state.pending, columns: state.pendingColumns)
            let count = state.pending.count
            counters.withLock { $0.recordsCommitted += count }
            state.pending.removeAll(keepingCapacity: true)
            state.pendingColumns.removeAll()
        }
        // The new active segment first: when the writer sealed it already (on close), its seal below is the
        // last word. Not while the seal before it waits for its fsync: a failed one deletes the new segment.
        if state.writer.activeSegment != state.indexedActiveSegment && !state.writer.hasPendingSeal {
            try catalog.upsertSegment(SegmentEntry(seq: state.writer.activeSegment, state: .active))
            state.indexedActiveSegment = state.writer.activeSegment
        }
        let waiting = state.pending.first?.entry.location.segment
        while let segment = state.seals.sealed.first, waiting.map({ $0 > segment.segment }) ?? true {
            try Self.recordSealed(
                seq: segment.segment, footer: segment.footer, bytes: Int64(segment.bytes), rows: segment.rows,
                at: configuration.segments.clock.wallMilliseconds(), in: catalog, reader: reader)
            state.seals.sealed.removeFirst()
        }
    }

    /// Records segment `seq` sealed in the catalog at `sealedAt` (Unix ms); `rows` are the writer's (nil: read
    /// back from the segment).
    private static func recordSealed(
        seq: UInt32, footer: SegmentFooter, bytes: Int64?, rows: SealedRows?, at sealedAt: Int64, in catalog: Catalog,
        reader: SegmentReader
    ) throws {
        let size =
            bytes
            ?? Int64(
                (try? FileManager.default.attributesOfItem(
                    atPath: reader.directory + "/segments/" + SegmentFormat.fileName(seq))[.size] as? Int) ?? 0)
        let empty = footer.recordCount == 0
        try catalog.sealSegment(
            SegmentEntry(
                seq: seq, state: .sealed,
                firstCreatedAt: empty ? nil : footer.minID.milliseconds,
                lastCreatedAt: empty ? nil : footer.maxID.milliseconds,
                recordCount: Int64(footer.recordCount), bytes: size,
                sealedAt: sealedAt),
            rows: try rows ?? SealedRows(reader.columns(of: seq)))
    }
}

// MARK: - Faults

extension LogStore {
    /// Fsyncs the active segment, then indexes what became durable (a commit in flight waited for first).
    private func syncAndIndex(_ state: inout WriterState) throws {
        try settleInFlight(&state)
        if state.writer.needsRepair { try repair(&state) }
        try state.writer.sync()
        markDurable(&state)
        try index(&state)
    }

    /// Every entry appended so far is durable.
    private func markDurable(_ state: inout WriterState) {
        state.unsyncedUsage.removeAll(keepingCapacity: true)
        state.lastDurable = state.lastAppended
    }

    /// Runs a commit step; a failure starts or continues a failing episode, a success ends it if the step wrote
    /// something (`writes`: records, or a probe), since only a write shows that the disk takes writes again.
    func committing(
        _ state: inout WriterState, writes: Bool, _ body: (inout WriterState) throws -> Void
    ) throws {
        do {
            try body(&state)
        } catch {
            fail(&state, Self.operation(of: error, writerFailed: state.writer.needsRepair), error)
            throw error
        }
        guard writes else { return }
        let now = configuration.segments.clock.wallMilliseconds()
        report(state.health.succeeded(now: now), &state)
    }

    /// An error in short: the system's message for a failed system call, else the error's own message.
    static func reason(of error: any Error) -> String {
        if let error = error as? SegmentError {
            return error.errno != 0 ? String(cString: strerror(error.errno)) : error.message
        }
        if let error = error as? SQLiteError {
            // A full disk reads the same whichever write met it first, the segment's or the catalog's.
            guard error.resultCode & 0xFF == SQLITE_FULL else { return error.message }
            return String(cString: strerror(ENOSPC)) + " (catalog: " + error.message + ")"
        }
        return "\(error)"
    }

    /// Which step an error came from, for the health's reason.
    static func operation(of error: any Error, writerFailed: Bool) -> WriteHealth.Operation {
        guard writerFailed else { return .catalogCommit }
        let message = (error as? SegmentError)?.message ?? ""
        if message.hasPrefix("fsync") { return .sync }
        if message.hasPrefix("pwrite") { return .append }
        if message.hasPrefix("ftruncate") { return .repair }
        return .rotate
    }

    /// After a failed write: the records appended after the durable point are lost (counted as failed, taken out
    /// of the pending index entries — a commit in flight's too — and back from the observer), the writer is repaired
    /// if it can be, and the failure is noted.
    func fail(_ state: inout WriterState, _ operation: WriteHealth.Operation, _ error: any Error) {
        if state.writer.needsRepair {
            // A sync still running is waited for: what it made durable is not lost.
            try? state.writer.settleSync()
            state.writer.completePendingSealAfterFailure()
            let (segment, offset) = state.writer.durableEnd
            func lost(_ location: RecordLocation) -> Bool {
                location.segment > segment || (location.segment == segment && location.offset >= offset)
            }
            // Entries and usage records are in append order, the commit in flight's first: the lost ones are a
            // suffix of each.
            var discarded: [LogIndexEntry] = []
            let lostLogs = state.pending.reversed().prefix { lost($0.entry.location) }.count
            let lostUsage = state.unsyncedUsage.reversed().prefix { lost($0.location) }.count
            discarded += state.pending.suffix(lostLogs).map(\.entry) + state.unsyncedUsage.suffix(lostUsage)
            state.pending.removeLast(lostLogs)
            state.pendingColumns.removeLast(lostLogs)
            state.unsyncedUsage.removeLast(lostUsage)
            if var inFlight = state.inFlight {
                let logs = state.pending.isEmpty ? inFlight.logs.reversed().prefix { lost($0.entry.location) }.count : 0
                let usage =
                    state.unsyncedUsage.isEmpty ? inFlight.usage.reversed().prefix { lost($0.location) }.count : 0
                discarded += inFlight.logs.suffix(logs).map(\.entry) + inFlight.usage.suffix(usage)
                inFlight.logs.removeLast(logs)
                inFlight.columns.removeLast(logs)
                inFlight.usage.removeLast(usage)
                state.inFlight = inFlight
            }
            if !discarded.isEmpty {
                observer?.discarded(discarded)
                counters.withLock {
                    $0.recordsDiscarded += discarded.count
                    $0.recordsFailed += discarded.count
                    $0.recordsAppended -= discarded.count
                }
            }
            // What is left is durable: before the durable end, or in a segment sealed since.
            let kept = [
                state.pending.last?.entry.location, state.unsyncedUsage.last?.location,
                state.inFlight?.logs.last?.entry.location, state.inFlight?.usage.last?.location, state.lastDurable,
            ]
            state.lastAppended = kept.compactMap { $0 }.max { ($0.segment, $0.offset) < ($1.segment, $1.offset) }
            state.unsyncedUsage.removeAll(keepingCapacity: true)
            state.inFlight?.usage.removeAll()
            state.lastDurable = state.lastAppended
            // Cut now, so readers never meet a torn frame and the space is given back; a cut that fails is done
            // by the next retry.
            _ = try? repair(&state)
        }
        let now = configuration.segments.clock.wallMilliseconds()
        report(
            state.health.failed(operation, reason: Self.reason(of: error), message: "\(error)", now: now), &state)
    }

    private func repair(_ state: inout WriterState) throws {
        let segment = state.writer.activeSegment
        // A reader may have cached a footer that a failed seal wrote and the cut removed (of the segment before,
        // when a seal that waited for its fsync is cut back), or a descriptor of a next segment half created and
        // deleted.
        defer {
            if segment > 0 { reader.forget(segment: segment - 1) }
            reader.forget(segment: segment)
            reader.forget(segment: segment + 1)
        }
        if let cut = try state.writer.repair() {
            logger.debug(
                "log store cut the active segment back to its last durable frame",
                metadata: [
                    "segment.index": "\(cut.segment)", "segment.offset": "\(cut.offset)",
                    "segment.bytes_cut": "\(cut.bytesCut)",
                ])
        }
    }

    /// Publishes the health and logs a change once.
    private func report(_ change: WriteHealth.Change, _ state: inout WriterState) {
        let health = state.health
        healthCopy.withLock { $0 = health }
        let failed = counters.withLock { $0.recordsFailed }
        switch change {
        case .none:
            return
        case .startedFailing, .reasonChanged:
            guard let failure = health.failure else { return }
            logger.warning(
                change == .startedFailing
                    ? "log store cannot write; records are not stored until a retry succeeds"
                    : "log store still cannot write, for another reason",
                metadata: [
                    "store.operation": "\(failure.operation.rawValue)", "store.error": "\(failure.reason)",
                    "store.failing_since": "\(RFC3339.format(milliseconds: failure.since))",
                    "store.records_failed": "\(failed)",
                    "store.next_retry": "\(RFC3339.format(milliseconds: failure.nextRetryAt))",
                ])
        case .recovered(let failedFor, let attempts):
            logger.warning(
                "log store writes again",
                metadata: [
                    "store.failed_for_ms": "\(failedFor)", "store.attempts": "\(attempts)",
                    "store.records_failed": "\(failed)",
                ])
        }
    }
}
