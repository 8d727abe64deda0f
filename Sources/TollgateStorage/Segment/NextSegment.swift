/// The next segment's files, made ahead of the rotation that needs them (`SegmentWriter.beginNextSegment()`, then
/// `run()` on any thread): making a segment fsyncs its file, its journal and the folder, which a rotation would
/// otherwise do while appends wait. The rotation takes the files made (`SegmentWriter.startSegment`), waiting for
/// `run()` if it runs still, and makes them itself when the preparation failed.
///
/// A crash leaves the files as a segment just started: the next open finds it empty at the end of the unsealed tail
/// and makes it the active segment.
public final class NextSegment: Sendable {
    public let sequence: UInt32
    let segmentsPath: String
    let version: UInt8
    let faults: StorageFaults?

    struct Files: Sendable {
        let file: SegmentFile
        let journal: SegmentFile?
    }

    private let made = Completion<Result<Files, SegmentError>>()

    init(sequence: UInt32, segmentsPath: String, version: UInt8, faults: StorageFaults?) {
        self.sequence = sequence
        self.segmentsPath = segmentsPath
        self.version = version
        self.faults = faults
    }

    /// Makes the files: any thread, once.
    public func run() {
        let result: Result<Files, SegmentError>
        do {
            result = .success(
                try Self.create(sequence: sequence, version: version, segmentsPath: segmentsPath, faults: faults))
        } catch {
            result = .failure((error as? SegmentError) ?? SegmentError(.io, "segment creation failed", cause: error))
        }
        made.finish(result)
    }

    /// Waits for `run()` to return and gives the files made, or its error.
    func wait() -> Result<Files, SegmentError> {
        made.wait()
    }

    /// Creates segment `sequence`: its file with its header and, version 4 and later, its journal with its header,
    /// each fsynced, then fsyncs the folder.
    static func create(
        sequence: UInt32, version: UInt8, segmentsPath: String, faults: StorageFaults?
    ) throws -> Files {
        let path = segmentsPath + "/" + SegmentFormat.fileName(sequence)
        try faults?.check(.segmentCreate, call: "create", path: path)
        let file = try SegmentFile.create(path)
        try file.write(SegmentFormat.fileHeader(sequence: sequence, version: version), at: 0)
        try file.sync()
        var journal: SegmentFile?
        if version >= 4 {
            let journalPath = segmentsPath + "/" + SegmentJournal.fileName(sequence)
            try SegmentDirectory.remove(journalPath)
            let made = try SegmentFile.create(journalPath)
            try made.write(SegmentJournal.fileHeader(sequence: sequence), at: 0)
            try made.sync()
            journal = made
        }
        try SegmentDirectory.sync(segmentsPath)
        return Files(file: file, journal: journal)
    }

    /// Deletes what a failed or unused preparation made of segment `sequence`.
    static func remove(sequence: UInt32, segmentsPath: String) throws {
        try SegmentDirectory.remove(segmentsPath + "/" + SegmentFormat.fileName(sequence))
        try SegmentDirectory.remove(segmentsPath + "/" + SegmentJournal.fileName(sequence))
    }
}

extension SegmentWriter {
    /// Starts making the next segment's files ahead of the rotation that needs them; nil when they are made or
    /// being made already, or the writer is stopped. The caller runs the returned preparation (`NextSegment.run()`),
    /// off the writer's thread.
    public func beginNextSegment() -> NextSegment? {
        guard nextSegment == nil, failed == nil, !closed, !activeSealed else { return nil }
        let next = NextSegment(
            sequence: activeSegment + 1, segmentsPath: segmentsPath, version: configuration.formatVersion,
            faults: configuration.faults)
        nextSegment = next
        return next
    }

    /// The files of segment `sequence`: those made ahead when they were (waiting for them if need be), else made now.
    func takeOrCreateFiles(_ sequence: UInt32) throws -> NextSegment.Files {
        if let next = nextSegment {
            nextSegment = nil
            let result = next.wait()
            if next.sequence == sequence, case .success(let files) = result { return files }
            // Made for another segment, or only in part: what it made goes.
            try NextSegment.remove(sequence: next.sequence, segmentsPath: segmentsPath)
        }
        return try NextSegment.create(
            sequence: sequence, version: configuration.formatVersion, segmentsPath: segmentsPath,
            faults: configuration.faults)
    }
}
