import TollgateModel

extension SegmentWriter {
    /// Settings of a segment writer; every field has a default.
    public struct Configuration: Sendable {
        /// Seal the active segment before it would pass this size (bytes).
        public var maxSegmentBytes: UInt64 = 64 << 20
        /// ...or past this many records (logs and usage records). The catalog holds the logs of the segment being
        /// written in memory (about 200 bytes each, by the columns' layout) beside the writer's columns, and a
        /// listing decodes a sealed segment's columns whole. At 65,536 the two copies of a full segment's columns
        /// (about 9 MB) kept a gateway's peak RSS over 64 MB under load (README, "Memory"), and so did 32,768 once
        /// every request of the load run was stored as a log; at 16,384 a listing with a rare filter reads four times
        /// as many segments as at 65,536 (2,000,000 logs: 3.5 against 2.7 ms at 32,768 for 0.08 % of them).
        public var maxSegmentRecords = 16_384
        /// Seal the active segment once its first record is this old (milliseconds).
        public var maxSegmentAgeMillis: Int64 = 3_600_000
        /// zstd level for records and columns.
        public var compressionLevel: Int32 = 3
        /// Train a dictionary from the first records when the store has none.
        public var trainsDictionary = true
        /// Train once this many records were sampled...
        public var dictionarySampleRecords = 1000
        /// ...or this many bytes of record encodings, whichever comes first.
        public var dictionarySampleBytes = 1 << 20
        /// Records are sampled in pieces of at most this many bytes...
        public var dictionarySamplePieceBytes = 8 << 10
        /// ...and at most this many bytes of one record: its head and pieces spread over the rest.
        public var dictionarySampleBytesPerRecord = 16 << 10
        /// After a failed training, this many records pass (doubling with each failure, at most 64 times) before
        /// sampling starts over.
        public var dictionaryRetryAfterRecords = 1000
        /// Largest dictionary trained (bytes).
        public var dictionaryCapacity = 64 << 10
        /// The format version of the segments this writer creates (FORMAT.md): 5 (the default: version 4 with the
        /// sealed columns in row groups), 4 (blocks of the records' payload parts, their metadata in a journal until
        /// the seal), 3 (blocks of whole records and a grouped index), 2 (blocks) or 1 (a frame per record). A tail
        /// segment found on open is continued in its own version.
        public var formatVersion: UInt8 = SegmentFormat.version
        /// Version 5: the rows of each group of a sealed segment's columns (FORMAT.md, *Format version 5*).
        public var columnGroupRows = SegmentFormat.columnGroupRows
        /// Version 2: a block is closed (compressed and framed) once its record encodings pass this many bytes...
        public var blockBytes = 64 << 10
        /// ...or it holds this many records (at most 65 535), and on flush, sync and seal.
        public var blockRecords = 1024
        /// Appended frames are written to the file (pwrite) when the buffer passes this size, and on flush/sync.
        public var writeBufferBytes = 1 << 20
        /// The clock the store reads: segment age, when a segment was sealed, when a compaction ran and how long
        /// its commit took. The gateway sets its own; tests set the time.
        public var clock: TollgateClock = .system
        /// Planned write, fsync and creation failures, for tests; nil in production.
        public var faults: StorageFaults?

        public init() {}

        /// The rows of each group of the columns of a segment of format `version` this writer seals.
        func columnGroupRows(version: UInt8) -> Int { version >= 5 ? max(1, columnGroupRows) : .max }

        /// The rotation's state of an active segment of `bytes` holding `records`, under these limits.
        func rotation(bytes: UInt64, records: Int = 0, firstAppendAt: Int64? = nil) -> SegmentRotation {
            SegmentRotation(
                maxBytes: maxSegmentBytes, maxRecords: maxSegmentRecords, maxAgeMillis: maxSegmentAgeMillis,
                bytes: bytes, records: records, firstAppendAt: firstAppendAt)
        }
    }
}
