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
