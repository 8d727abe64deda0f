import Synchronization
import TollgateModel

/// A log listing across sealed segments: each segment that may hold a match (`SegmentSummary.mayMatch`) is scanned
/// through its columns (`LogColumnScan`) and the pages merged by id, newest (or oldest) segments first, stopping as
/// soon as no further segment can hold an id that would enter the page.
///
/// Decoded columns are kept for the `cachedSegments` segments used last: a listing that pages on reads the same
/// segments again, and the newest segments are read by nearly every listing.
public final class SegmentListing: Sendable {
    public let reader: SegmentReader
    private let cache: Mutex<Cache>

    public init(reader: SegmentReader, cachedSegments: Int = 8) {
        self.reader = reader
        self.cache = Mutex(Cache(capacity: max(1, cachedSegments)))
    }

    /// A row of a segment's columns that a listing returns.
    public struct Row: Sendable {
        public var columns: SegmentColumns
        public var row: Int
        public var id: LogID { columns.block.ids[row] }
    }

    /// The first `limit` logs `query` lists strictly after `after` (in its order) among `segments`. `deleted` gives
    /// a segment's deleted log ids, `annotations` the annotations of the ids asked for, `columns` a segment's
    /// columns when not the sealed file's (nil: read from the file).
    public func page(
        _ query: LogQuery, after: LogID?, limit: Int, segments: [SegmentSummary],
        deleted: (UInt32) throws -> Set<LogID> = { _ in [] },
        annotations: (UInt32) throws -> [LogID: LogAnnotation] = { _ in [:] },
        columns columnsOf: ((UInt32) throws -> SegmentColumns)? = nil
    ) throws -> [Row] {
        let ascending = query.order == .ascending
        var candidates = segments.filter { summary in
            guard summary.mayMatch(query) else { return false }
            guard let after else { return true }
            return ascending ? after < summary.maxID : summary.minID < after
        }
        // Newest first when descending (by largest id), oldest first when ascending (by smallest id).
        if ascending {
            candidates.sort { $0.minID < $1.minID }
        } else {
            candidates.sort { $1.maxID < $0.maxID }
        }
        let scan = LogColumnScan(query: query, after: after)
        var page: [Row] = []
        for summary in candidates {
            if page.count == limit, let worst = page.last?.id {
                // No id of this segment (nor of any later one) would enter the page.
                if ascending ? !(summary.minID < worst) : !(worst < summary.maxID) { break }
            }
            let columns = try columnsOf?(summary.segment) ?? self.columns(of: summary.segment)
            let rows = scan.rows(
                of: columns, deleted: try deleted(summary.segment), annotations: try annotations(summary.segment),
                limit: limit)
            guard !rows.isEmpty else { continue }
            page += rows.map { Row(columns: columns, row: $0) }
            page.sort { ascending ? $0.id < $1.id : $1.id < $0.id }
            if page.count > limit { page.removeLast(page.count - limit) }
        }
        return page
    }

    /// The decoded columns of a sealed segment, from the cache or read and decoded now.
    public func columns(of segment: UInt32) throws -> SegmentColumns {
        if let cached = cache.withLock({ $0.get(segment) }) { return cached }
        let columns = SegmentColumns(try reader.columns(of: segment))
        cache.withLock { $0.put(segment, columns) }
        return columns
    }

    /// The decoded columns of a sealed segment if they are cached; nil without reading.
    public func cachedColumns(of segment: UInt32) -> SegmentColumns? {
        cache.withLock { $0.get(segment) }
    }

    /// Forgets the cached columns of `segment` (rewritten by compaction, or dropped).
    public func forget(_ segment: UInt32) {
        cache.withLock { $0.remove(segment) }
        reader.forget(segment: segment)  // its cached descriptor may name the file a rename replaced
    }

    /// The most recently used decoded segments, at most `capacity`.
    private struct Cache: ~Copyable {
        let capacity: Int
        var entries: [(segment: UInt32, columns: SegmentColumns)] = []

        init(capacity: Int) { self.capacity = capacity }

        mutating func get(_ segment: UInt32) -> SegmentColumns? {
            guard let i = entries.firstIndex(where: { $0.segment == segment }) else { return nil }
            let entry = entries.remove(at: i)
            entries.append(entry)
            return entry.columns
        }

        mutating func put(_ segment: UInt32, _ columns: SegmentColumns) {
            remove(segment)
            entries.append((segment, columns))
            if entries.count > capacity { entries.removeFirst(entries.count - capacity) }
        }

        mutating func remove(_ segment: UInt32) { entries.removeAll { $0.segment == segment } }
    }
}
