import Logging
import TollgateModel

/// The single owner of the active segment: appends records (buffered), syncs, rotates and seals.
///
/// Not thread-safe and not `Sendable`: one task owns it (the ingest drainer) and calls `append`, `sync` (on its
/// group-commit interval) and `sealIfDue` (on a timer). Opening it recovers the unsealed tail (see FORMAT.md).
///
/// After an I/O error (a full disk, `EIO`) the writer refuses further work until `repair()` succeeds: it cuts the
/// active segment back to the end of its last durable frame, in place, and forgets the frames after it (or, when
/// the error came after a seal, creates the next segment). What a successful `sync()` made durable is never cut.
public final class SegmentWriter {
    public let directory: String
    public let configuration: Configuration
    /// What opening found and repaired.
    public internal(set) var recovery = SegmentRecoveryReport()
    /// Called after a segment is sealed (rotation or close), e.g. to update the catalog.
    public var onSeal: ((SealedSegment) -> Void)?

    let logger: Logger
    let segmentsPath: String
    let dictionariesPath: String

    var file: SegmentFile!
    /// Sequence number of the active segment.
    public internal(set) var activeSegment: UInt32 = 0
    /// Bytes of the active segment already written to the file.
    var writtenBytes: UInt64 = 0
    /// Frames appended but not yet written.
    var buffer: [UInt8] = []
    /// The format version of the active segment (its header's).
    var activeVersion: UInt8 = SegmentFormat.version
    /// Version 2: the records of the block not closed yet, and where its frame will start.
    var block = RecordBlock()
    var blockOffset: UInt64 = 0
    /// Version 4: the active segment's journal (its records' metadata parts), the metadata frames not written yet,
    /// and the journal's written size.
    var journal: SegmentFile?
    var journalBuffer: [UInt8] = []
    var journalBytes: UInt64 = 0
    /// Bytes written but not yet fsynced (nor covered by the sync running).
    var unsyncedBytes = false
    /// The sync begun by `beginSync()` and not settled yet.
    var syncing: SegmentSync?
    /// The next segment's files, made ahead (`beginNextSegment()`), until a rotation takes them.
    var nextSegment: NextSegment?
    /// The segment a rotation sealed, until the next commit's fsync makes its seal durable.
    var pendingSeal: PendingSeal?
    var rotation: SegmentRotation
    /// How far the active segment is durable: moved by a successful fsync, by recovery, by sealing or by creating
    /// the segment. A failed write cuts the files back to it.
    var durable: DurablePoint
    /// The active segment was sealed but the next one could not be created yet (`repair()` creates it).
    var activeSealed = false
    /// Metadata of the active segment's records, encoded as sealing will store it.
    var activeColumns: ColumnBuilder

    /// Records in the active segment.
    public var activeRecordCount: Int { activeColumns.count }

    /// Metadata of the active segment's records, decoded (as a reader of the segment will see it once sealed).
    public func activeColumnBlock() throws -> ColumnBlock { try activeColumns.block() }
    var failed: SegmentError?
    var closed = false

    /// Whether a write failed and `repair()` must run before the next append.
    public var needsRepair: Bool { failed != nil }
    /// The error that stopped the writer, until `repair()` succeeds.
    public var failure: SegmentError? { failed }
    /// Whether records were appended after the durable point (the next `sync()` has work).
    public var hasUnsyncedRecords: Bool { activeColumns.count > durable.records || pendingSeal != nil }
    /// The end of the last durable frame in the active segment: a failed write loses the records at or after it.
    /// In a version 2 segment the offset is a record location's (block offset and slot): every record in a block at
    /// or after the durable point has a location offset at or after it.
    /// While a seal waits for its fsync the durable point is in the segment it sealed.
    public var durableEnd: (segment: UInt32, offset: UInt64) {
        if let seal = pendingSeal {
            return (
                seal.sealed.segment,
                seal.version >= 2
                    ? SegmentFormat.blockLocationOffset(block: seal.durable.bytes, slot: 0) : seal.durable.bytes
            )
        }
        return (
            activeSegment,
            activeVersion >= 2 ? SegmentFormat.blockLocationOffset(block: durable.bytes, slot: 0) : durable.bytes
        )
    }

    var compressor: ZstdCompressor
    let columnsCompressor: ZstdCompressor
    var dictionaries: [ZstdDictionary] = []
    var training: DictionaryTraining

    /// The id of the dictionary new records are compressed with, nil while there is none.
    public var dictionaryID: UInt32? { compressor.dictionary?.id }

    /// Opens (or creates) the store in `directory`, recovering the unsealed tail.
    ///
    /// - Parameter onRecoveredRecord: called with each record found in the scanned tail segments, in file order,
    ///   so the caller can re-index what its catalog may have missed. The same records are listed (id and location)
    ///   in `recovery.records`.
    public init(
        directory: String, configuration: Configuration = Configuration(), logger: Logger,
        onRecoveredRecord: (RecordLocation, LogRecord) throws -> Void = { _, _ in }
    ) throws {
        self.directory = directory
        self.configuration = configuration
        self.logger = logger
        self.segmentsPath = directory + "/" + SegmentFormat.segmentsDirectory
        self.dictionariesPath = directory + "/" + SegmentFormat.dictionariesDirectory
        self.rotation = configuration.rotation(bytes: UInt64(SegmentFormat.fileHeaderSize))
        self.durable = DurablePoint(bytes: 0, journalBytes: 0, records: 0, rotation: rotation)
        self.activeColumns = ColumnBuilder(segment: 0)
        self.compressor = try ZstdCompressor(level: configuration.compressionLevel)
        self.columnsCompressor = try Self.makeColumnsCompressor(level: configuration.compressionLevel)
        self.training = DictionaryTraining(configuration: configuration, enabled: configuration.trainsDictionary)
        buffer.reserveCapacity(configuration.writeBufferBytes + 64 * 1024)
        try open(onRecoveredRecord: onRecoveredRecord)
    }

    deinit {
        if !closed && failed == nil {
            do {
                try flush()
            } catch {
                logger.error("segment writer could not flush on deinit", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Appends a record to the active segment (rotating first if it is due) and returns where it is.
    ///
    /// The frame is buffered: it reaches the file on the next `flush()`/`sync()` or when the buffer fills, and is
    /// durable after the next `sync()`.
    public func append(_ record: LogRecord) throws -> RecordLocation {
        try withUnsafePointer(to: record) { try append($0) }
    }

    /// `append(_:)` for the record `record` points to, read where it lies: the store passes its batch's records so,
    /// as a record passed by value from an array is copied first (each of its strings and buffers retained, then
    /// released).
    func append(_ record: UnsafePointer<LogRecord>) throws -> RecordLocation {
        try checkUsable()
        if activeVersion >= 2 { return try appendToBlock(record) }
        let encoded = RecordCodec.encode(record)
        if training.enabled && compressor.dictionary == nil { sample(encoded) }
        var payload = try compressor.compress(encoded)
        var flags = SegmentFormat.flagCompressed
        if payload.count >= encoded.count {
            payload = encoded
            flags = 0
        }
        guard payload.count <= SegmentFormat.maxPayload else {
            throw SegmentError(.invalidArgument, "record of \(payload.count) bytes exceeds the frame limit")
        }
        let frameBytes = SegmentFormat.frameHeaderSize + payload.count
        let now = configuration.clock.wallMilliseconds()
        let decision = rotation.append(
            frameBytes: UInt64(frameBytes), now: now, headerBytes: UInt64(SegmentFormat.fileHeaderSize))
        if decision == .sealThenAppend {
            try guarded {
                try sealActive(deferringSync: true)
                try startSegment(activeSegment + 1)
            }
            // A version 1 tail was sealed; the next segment is in the configured version (the rotation counted the
            // record in it already).
            if activeVersion >= 2 { return try appendToBlock(record, rotationDecided: true) }
        }
        let location = RecordLocation(
            segment: activeSegment, offset: writtenBytes + UInt64(buffer.count), length: UInt32(frameBytes))
        SegmentFormat.appendFrame(type: .record, flags: flags, payload: payload, to: &buffer)
        activeColumns.append(record, at: location)
        if buffer.count >= configuration.writeBufferBytes { try flush() }
        return location
    }

    /// Version 2: appends a record to the open block (rotating first if it is due, unless `rotationDecided`). The
    /// record is encoded in the block's room (`RecordBlock.stage`) and added once the rotation is decided.
    private func appendToBlock(_ record: UnsafePointer<LogRecord>, rotationDecided: Bool = false) throws
        -> RecordLocation
    {
        var length = block.stage(record, split: activeVersion >= 4)
        // (A record that came through the version 1 path was sampled there.)
        if !rotationDecided && training.enabled && compressor.dictionary == nil {
            sample(block.withStaged { Array($0) })
        }
        guard length <= SegmentFormat.maxPayload - 16 else {
            throw SegmentError(.invalidArgument, "record of \(length) bytes exceeds the frame limit")
        }
        // The stored size is known only when the block closes: the encoding's length counts (an upper bound; in
        // version 4 both parts', the metadata part being stored in the columns at the seal).
        let decision =
            rotationDecided
            ? .append
            : rotation.append(
                frameBytes: UInt64(length + block.stagedMetadata), now: configuration.clock.wallMilliseconds(),
                headerBytes: UInt64(SegmentFormat.fileHeaderSize))
        if decision == .sealThenAppend {
            let split = activeVersion >= 4
            try guarded {
                try sealActive(deferringSync: true)
                try startSegment(activeSegment + 1)
            }
            // A tail of another version was sealed: the record is staged again as the new segment keeps records.
            if split != (activeVersion >= 4) { length = block.stage(record, split: activeVersion >= 4) }
        }
        if block.isEmpty { blockOffset = writtenBytes + UInt64(buffer.count) }
        let slot = block.commitStaged()
        let location = RecordLocation(
            segment: activeSegment, offset: SegmentFormat.blockLocationOffset(block: blockOffset, slot: slot),
            length: UInt32(length))
        activeColumns.append(record, at: location)
        if block.rawBytes >= configuration.blockBytes
            || block.count >= min(max(1, configuration.blockRecords), SegmentFormat.maxBlockRecords)
        {
            try guarded { try closeBlock() }
            if buffer.count >= configuration.writeBufferBytes { try flush() }
        }
        return location
    }

    /// Version 2: compresses the open block into a block frame in the buffer (version 4: and its metadata frame in
    /// the journal's).
    func closeBlock() throws {
        guard !block.isEmpty else { return }
        if activeVersion >= 4 {
            SegmentFormat.appendFrame(
                type: .metadata, flags: 0, payload: block.metadataFrame(blockOffset: blockOffset), to: &journalBuffer)
        }
        try block.withContent { content in
            let compressed = try compressor.compress(content)
            if compressed.count < content.count {
                SegmentFormat.appendFrame(
                    type: .block, flags: SegmentFormat.flagCompressed, payload: compressed, to: &buffer)
            } else {
                SegmentFormat.appendFrame(type: .block, flags: 0, payload: content, to: &buffer)
            }
        }
        block.removeAll()
    }

    /// Writes buffered frames (closing the open block) to the file (no fsync). Readers can read them afterwards.
    public func flush() throws {
        try checkUsable()
        if !block.isEmpty { try guarded { try closeBlock() } }
        guard !buffer.isEmpty || !journalBuffer.isEmpty else { return }
        try guarded {
            // The journal first: a reader that finds a block in the segment finds its metadata frame.
            if let journal, !journalBuffer.isEmpty {
                try writeJournal(journal)
                journalBytes += UInt64(journalBuffer.count)
                journalBuffer.removeAll(keepingCapacity: true)
            }
            if !buffer.isEmpty {
                try writeActive(buffer, at: writtenBytes)
                writtenBytes += UInt64(buffer.count)
                buffer.removeAll(keepingCapacity: true)
            }
            unsyncedBytes = true
        }
    }

    /// Group commit: writes buffered frames and fsyncs the active segment. Every record appended before this
    /// returns is durable.
    public func sync() throws {
        try settleSync()
        try flush()
        if pendingSeal != nil { try guarded { try completePendingSeal() } }
        guard unsyncedBytes else { return }
        try guarded {
            try syncActive()
            unsyncedBytes = false
            markDurable()
        }
    }

    /// After a failed write: cuts the active segment back to the end of its last durable frame (`ftruncate` +
    /// `fsync`, in place, as recovery on open does) and forgets the records after it, or, when the active segment was
    /// sealed, creates the next segment. Returns the cut (nil when nothing was cut). Throws when the disk still
    /// refuses; the writer then stays stopped and `repair()` can be called again.
    @discardableResult
    public func repair() throws -> SegmentRecoveryReport.Cut? {
        guard failed != nil, !closed else { return nil }
        // A sync still running is waited for: what it made durable is kept (its error is the one already known).
        try? settleSync()
        buffer.removeAll(keepingCapacity: true)
        journalBuffer.removeAll(keepingCapacity: true)
        block.removeAll()
        completePendingSealAfterFailure()
        // A seal whose fsync failed is cut off with what came after it.
        if pendingSeal != nil { try rollBackPendingSeal() }
        if activeSealed {
            // Sealed and durable; a creation of the next segment failed, maybe half done.
            let next = activeSegment + 1
            if let prepared = nextSegment {
                nextSegment = nil
                _ = prepared.wait()
            }
            try NextSegment.remove(sequence: next, segmentsPath: segmentsPath)
            try startSegment(next)
            rotation = durable.rotation
            failed = nil
            return nil
        }
        let size = try file.size()
        if size != durable.bytes { try file.truncate(to: durable.bytes) }
        try syncActive()
        if let journal {
            if try journal.size() != durable.journalBytes { try journal.truncate(to: durable.journalBytes) }
            try journal.sync()
            journalBytes = durable.journalBytes
        }
        let dropped = activeColumns.count - durable.records
        activeColumns = try activeColumns.prefix(durable.records)
        writtenBytes = durable.bytes
        unsyncedBytes = false
        rotation = durable.rotation
        failed = nil
        logger.debug(
            "segment cut back after a failed write",
            metadata: [
                "segment.index": "\(activeSegment)", "segment.offset": "\(durable.bytes)",
                "segment.records_dropped": "\(dropped)",
            ])
        guard size > durable.bytes || dropped > 0 else { return nil }
        return SegmentRecoveryReport.Cut(
            segment: activeSegment, offset: durable.bytes, bytesCut: size > durable.bytes ? size - durable.bytes : 0,
            reason: "failed write: \(dropped) records not durable")
    }

    /// Proves the active segment can be written and fsynced again, with nothing appended to write: writes `bytes`
    /// zero bytes after its last frame, fsyncs, and cuts them off again. A crash in between leaves bytes that fail
    /// their checksum, which recovery cuts.
    public func probe(bytes: Int) throws {
        try settleSync()
        try checkUsable()
        guard !activeSealed, buffer.isEmpty, block.isEmpty, !hasUnsyncedRecords, bytes > 0 else { return }
        try guarded {
            try writeActive([UInt8](repeating: 0, count: bytes), at: writtenBytes)
            try syncActive()
            try file.truncate(to: writtenBytes)
            try syncActive()
        }
    }

    /// Seals the active segment if it is older than `maxSegmentAgeMillis` (call on a timer). Returns whether it did.
    @discardableResult
    public func sealIfDue() throws -> Bool {
        try checkUsable()
        guard rotation.shouldSeal(now: configuration.clock.wallMilliseconds()) else { return false }
        try rotate()
        return true
    }

    /// Seals the active segment now (if it has records) and starts the next one.
    public func rotate() throws {
        try checkUsable()
        guard activeColumns.count > 0 else { return }
        try guarded {
            try sealActive()
            try startSegment(activeSegment + 1)
        }
        rotation.startSegment(headerBytes: UInt64(SegmentFormat.fileHeaderSize))
    }

    /// Flushes and fsyncs; with `seal` (clean shutdown), seals the active segment if it has records. The next
    /// open then starts a new segment without scanning anything.
    public func close(seal: Bool = true) throws {
        guard !closed else { return }
        try settleSync()
        // Files made ahead are left for the next open, which starts there; half-made ones go.
        if let next = nextSegment {
            nextSegment = nil
            if case .failure = next.wait() {
                try NextSegment.remove(sequence: next.sequence, segmentsPath: segmentsPath)
            }
        }
        try checkUsable()
        if seal && activeColumns.count > 0 {
            try guarded { try sealActive() }
        } else {
            try sync()
        }
        closed = true
        file = nil
    }

    func checkUsable() throws {
        if let failed {
            throw SegmentError(.io, "segment writer waits for repair after a failed write", cause: failed)
        }
        if closed { throw SegmentError(.invalidArgument, "segment writer is closed") }
    }

    /// Runs I/O; on error, marks the writer failed (its in-memory state may no longer match the file) until
    /// `repair()`. The caller reports the error; the writer logs it at debug level only.
    func guarded(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            failed = (error as? SegmentError) ?? SegmentError(.io, "segment writer operation failed", cause: error)
            logger.debug("segment write failed", metadata: ["segment.index": "\(activeSegment)", "error": "\(error)"])
            throw error
        }
    }

    /// Where the active segment's writing is: its durable point once an fsync returns.
    var written: DurablePoint {
        DurablePoint(bytes: writtenBytes, journalBytes: journalBytes, records: activeColumns.count, rotation: rotation)
    }

    /// Everything appended is in the file and fsynced.
    func markDurable() {
        durable = written
    }

    /// `pwrite` to the active segment, through the fault-injection seam.
    func writeActive(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        if let fault = configuration.faults?.take(.segmentWrite) {
            if fault.torn {
                try file.write(UnsafeRawBufferPointer(rebasing: bytes.prefix(bytes.count / 2)), at: offset)
            }
            throw SegmentError.injected("pwrite", path: file.path, errno: fault.errno)
        }
        try file.write(bytes, at: offset)
    }

    func writeActive(_ bytes: [UInt8], at offset: UInt64) throws {
        try bytes.withUnsafeBytes { try writeActive($0, at: offset) }
    }

    /// `fsync` of the active segment (and of its journal, version 4), through the fault-injection seam.
    func syncActive() throws {
        try SegmentSync.sync(file: file, journal: journal, faults: configuration.faults)
    }

    /// Writes the journal's buffer after its written bytes, through the fault-injection seam of segment writes.
    func writeJournal(_ journal: SegmentFile) throws {
        try journalBuffer.withUnsafeBytes { bytes in
            if let fault = configuration.faults?.take(.segmentWrite) {
                if fault.torn {
                    try journal.write(UnsafeRawBufferPointer(rebasing: bytes.prefix(bytes.count / 2)), at: journalBytes)
                }
                throw SegmentError.injected("pwrite", path: journal.path, errno: fault.errno)
            }
            try journal.write(bytes, at: journalBytes)
        }
    }
}
