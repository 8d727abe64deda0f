import Logging
import TollgateModel

/// The single owner of the active segment: appends records (buffered), syncs, rotates and seals.
///
/// Not thread-safe and not `Sendable`: one task owns it (the ingest drainer) and calls `append`, `sync` (on its
/// group-commit interval) and `sealIfDue` (on a timer). Opening it recovers the unsealed tail (see FORMAT.md).
/// After an I/O error the writer refuses further work; reopen the store to recover.
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
    /// Bytes written but not yet fsynced.
    var unsyncedBytes = false
    var rotation: SegmentRotation
    /// Metadata of the active segment's records, encoded as sealing will store it.
    var activeColumns: ColumnBuilder

    /// Records in the active segment.
    public var activeRecordCount: Int { activeColumns.count }

    /// Metadata of the active segment's records, decoded (as a reader of the segment will see it once sealed).
    public func activeColumnBlock() throws -> ColumnBlock { try activeColumns.block() }
    var failed: SegmentError?
    var closed = false

    var compressor: ZstdCompressor
    let columnsCompressor: ZstdCompressor
    var dictionaries: [ZstdDictionary] = []
    var samples: [[UInt8]] = []
    var sampleBytes = 0
    var trainingEnabled: Bool

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
        self.rotation = SegmentRotation(
            maxBytes: configuration.maxSegmentBytes, maxAgeMillis: configuration.maxSegmentAgeMillis,
            bytes: UInt64(SegmentFormat.fileHeaderSize))
        self.activeColumns = ColumnBuilder(segment: 0)
        self.compressor = try ZstdCompressor(level: configuration.compressionLevel)
        self.columnsCompressor = try ZstdCompressor(level: configuration.compressionLevel)
        self.trainingEnabled = configuration.trainsDictionary
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
        try checkUsable()
        let encoded = RecordCodec.encode(record)
        if trainingEnabled && compressor.dictionary == nil { try sample(encoded) }
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
        let now = configuration.clock()
        let decision = rotation.append(
            frameBytes: UInt64(frameBytes), now: now, headerBytes: UInt64(SegmentFormat.fileHeaderSize))
        if decision == .sealThenAppend {
            try guarded {
                try sealActive()
                try startSegment(activeSegment + 1)
            }
        }
        let location = RecordLocation(
            segment: activeSegment, offset: writtenBytes + UInt64(buffer.count), length: UInt32(frameBytes))
        SegmentFormat.appendFrame(type: .record, flags: flags, payload: payload, to: &buffer)
        activeColumns.append(record, at: location)
        if buffer.count >= configuration.writeBufferBytes { try flush() }
        return location
    }

    /// Writes buffered frames to the file (no fsync). Readers can read them afterwards.
    public func flush() throws {
        try checkUsable()
        guard !buffer.isEmpty else { return }
        try guarded {
            try file.write(buffer, at: writtenBytes)
            writtenBytes += UInt64(buffer.count)
            buffer.removeAll(keepingCapacity: true)
            unsyncedBytes = true
        }
    }

    /// Group commit: writes buffered frames and fsyncs the active segment. Every record appended before this
    /// returns is durable.
    public func sync() throws {
        try flush()
        guard unsyncedBytes else { return }
        try guarded {
            try file.sync()
            unsyncedBytes = false
        }
    }

    /// Seals the active segment if it is older than `maxSegmentAgeMillis` (call on a timer). Returns whether it did.
    @discardableResult
    public func sealIfDue() throws -> Bool {
        try checkUsable()
        guard rotation.shouldSeal(now: configuration.clock()) else { return false }
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
        if let failed { throw SegmentError(.io, "segment writer stopped after an earlier error", cause: failed) }
        if closed { throw SegmentError(.invalidArgument, "segment writer is closed") }
    }

    /// Runs I/O; on error, marks the writer failed (its in-memory state may no longer match the file).
    func guarded(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch {
            failed = (error as? SegmentError) ?? SegmentError(.io, "segment writer operation failed", cause: error)
            logger.error("segment writer failed", metadata: ["segment.index": "\(activeSegment)", "error": "\(error)"])
            throw error
        }
    }
}
