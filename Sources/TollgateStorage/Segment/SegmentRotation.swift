/// When to seal the active segment: a pure state machine, fed sizes and times, returning decisions. No I/O, no
/// clock of its own, so rotation is tested by passing times in.
///
/// A segment is sealed before an append that would take it past `maxBytes` (unless it holds no record yet: a
/// record larger than `maxBytes` gets a segment of its own) or past `maxRecords` records, and once its first record
/// is `maxAgeMillis` old (on
/// the next append or tick). An empty segment is never sealed by age.
public struct SegmentRotation: Sendable, Equatable {
    public enum Decision: Sendable, Equatable {
        /// Append to the active segment.
        case append
        /// Seal the active segment, start the next one, then append there.
        case sealThenAppend
    }

    public var maxBytes: UInt64
    /// Records a segment holds at most: what the catalog keeps in memory of the segment being written, and what a
    /// listing decodes of one segment, grow with it.
    public var maxRecords: Int
    public var maxAgeMillis: Int64
    /// Bytes in the active segment (header and frames).
    public private(set) var bytes: UInt64
    public private(set) var records: Int
    /// When the active segment's first record was appended.
    public private(set) var firstAppendAt: Int64?

    public init(
        maxBytes: UInt64, maxRecords: Int = .max, maxAgeMillis: Int64, bytes: UInt64, records: Int = 0,
        firstAppendAt: Int64? = nil
    ) {
        self.maxBytes = maxBytes
        self.maxRecords = maxRecords
        self.maxAgeMillis = maxAgeMillis
        self.bytes = bytes
        self.records = records
        self.firstAppendAt = firstAppendAt
    }

    /// Decides where a frame of `frameBytes` goes and records it there. After `.sealThenAppend` the state
    /// describes the new segment (whose header is `headerBytes` long) holding just this frame.
    public mutating func append(frameBytes: UInt64, now: Int64, headerBytes: UInt64) -> Decision {
        let decision: Decision =
            records > 0 && (bytes + frameBytes > maxBytes || records >= maxRecords || isOld(now: now))
            ? .sealThenAppend : .append
        if decision == .sealThenAppend { startSegment(headerBytes: headerBytes) }
        bytes += frameBytes
        records += 1
        if firstAppendAt == nil { firstAppendAt = now }
        return decision
    }

    /// Whether the active segment should be sealed now (by age), with no append pending.
    public func shouldSeal(now: Int64) -> Bool { records > 0 && isOld(now: now) }

    /// The active segment was sealed and a new one (with a header of `headerBytes`) started.
    public mutating func startSegment(headerBytes: UInt64) {
        bytes = headerBytes
        records = 0
        firstAppendAt = nil
    }

    private func isOld(now: Int64) -> Bool {
        guard let first = firstAppendAt else { return false }
        return now - first >= maxAgeMillis
    }
}
