import TollgateModel

/// What opening the store found and repaired.
public struct SegmentRecoveryReport: Sendable, Equatable {
    /// A torn or corrupt tail cut off a segment.
    public struct Cut: Sendable, Equatable {
        public var segment: UInt32
        /// The new end of the file: the end of the last good frame.
        public var offset: UInt64
        public var bytesCut: UInt64
        /// Why the scan stopped there (torn frame, bad checksum, undecodable record, unfinished seal, bad header).
        public var reason: String
    }

    /// A record found in the scanned tail.
    public struct Record: Sendable, Equatable {
        public var id: LogID
        public var location: RecordLocation
    }

    /// Segments that were read frame by frame (the unsealed tail). Sealed segments are never scanned.
    public var scannedSegments: [UInt32] = []
    /// Tail segments other than the newest, sealed during recovery.
    public var sealedSegments: [UInt32] = []
    public var cuts: [Cut] = []
    /// Every record in the scanned segments, in file order.
    public var records: [Record] = []

    public init() {}
}

/// A segment that was just sealed.
public struct SealedSegment: Sendable, Equatable {
    public var segment: UInt32
    public var footer: SegmentFooter
    /// Size of the sealed file.
    public var bytes: UInt64
    /// Its rows as the catalog records them, from the writer's own columns.
    var rows: SealedRows
}
