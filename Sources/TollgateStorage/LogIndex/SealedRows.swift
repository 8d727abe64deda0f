/// What the catalog takes of a segment's columns when it records the segment sealed (`Catalog.sealSegment`): each
/// row's record offset, in row order (to carry the logs' costs over and to find the blocks' first rows), and the
/// segment's summary. At a seal the writer hands over its own columns (`ColumnBuilder`), so nothing is read back
/// from the file; a segment sealed before the catalog recorded it (a crash in between) is read from its columns frame.
struct SealedRows: Sendable, Equatable {
    var offsets: [UInt64]
    /// nil: the segment has no row, or (read back) was written without its listing columns, so its logs are `logs`
    /// rows.
    var summary: SegmentSummary?

    var count: Int { offsets.count }

    init(_ block: ColumnBlock) {
        offsets = block.offsets
        summary = block.hasListingColumns ? SegmentSummary(block) : nil
    }

    init(_ columns: ColumnBuilder) {
        offsets = columns.offsets
        summary = SegmentSummary(columns)
    }
}
