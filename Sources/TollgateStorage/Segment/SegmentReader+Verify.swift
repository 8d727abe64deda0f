import TollgateModel

extension SegmentReader {
    /// Expensive invariant check of a sealed segment: reads every record and checks that the index and the columns
    /// frame describe exactly those records (ids, locations, metadata). Returns the record count; throws
    /// `SegmentError.corrupt` naming the first mismatch. For tests and offline checks, not for the request path.
    @discardableResult
    public func verify(segment: UInt32) throws -> Int {
        let columns = try columns(of: segment)
        let index = try index(of: segment)
        var expected = ColumnBlock(segment: segment)
        try forEachRecord(in: segment) { location, record in expected.append(record, at: location) }
        // A segment sealed before the listing columns existed is checked on the columns it has.
        guard expected.restricted(to: columns.present) == columns else {
            throw SegmentError(.corrupt, "segment \(segment): columns frame does not match its records")
        }
        let rebuilt = SegmentIndex(
            segment: segment, ids: expected.ids, offsets: expected.offsets, lengths: expected.lengths)
        guard rebuilt == index else {
            throw SegmentError(.corrupt, "segment \(segment): index does not match its records")
        }
        guard let footer = try footer(of: segment), Int(footer.recordCount) == expected.count,
            expected.idRange.map({ $0.min == footer.minID && $0.max == footer.maxID }) ?? true
        else { throw SegmentError(.corrupt, "segment \(segment): footer does not match its records") }
        return expected.count
    }
}

/// A segment's bytes by part.
public struct SegmentParts: Sendable, Equatable {
    /// The record frames or blocks: from the file header to the index frame (all of an unsealed segment's frames).
    public var records: UInt64
    /// The id index frame.
    public var index: UInt64
    /// The columns frame.
    public var columns: UInt64
    /// The file header and the footer frame.
    public var framing: UInt64

    public init(records: UInt64 = 0, index: UInt64 = 0, columns: UInt64 = 0, framing: UInt64 = 0) {
        self.records = records
        self.index = index
        self.columns = columns
        self.framing = framing
    }

    /// The sum of two segments' parts.
    public static func + (a: SegmentParts, b: SegmentParts) -> SegmentParts {
        SegmentParts(
            records: a.records + b.records, index: a.index + b.index, columns: a.columns + b.columns,
            framing: a.framing + b.framing)
    }
}

extension SegmentReader {
    /// A segment's bytes by part, read from its footer; an unsealed segment is all records (and its file header).
    public func parts(of segment: UInt32) throws -> SegmentParts {
        let size = try file(segment).size()
        let header = UInt64(SegmentFormat.fileHeaderSize)
        guard let footer = try footer(of: segment) else {
            return SegmentParts(records: size - min(size, header), index: 0, columns: 0, framing: min(size, header))
        }
        let records = footer.indexOffset - header
        let index = UInt64(footer.indexLength)
        let columns = UInt64(footer.columnsLength)
        return SegmentParts(records: records, index: index, columns: columns, framing: size - records - index - columns)
    }
}
