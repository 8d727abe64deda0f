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
