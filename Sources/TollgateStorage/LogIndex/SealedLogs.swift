import Synchronization
import TollgateModel

/// The segments whose logs the segments themselves answer for, as the catalog keeps them in memory: the sealed
/// ones (`sealed_segments`: each one's summary and its logs' costs, loaded when the catalog opens and changed by the
/// transactions that change the table, `Catalog+SealedLogs.swift`) and the ones still being written, whose logs are
/// only here (`ActiveSegmentLogs`, rebuilt from the segments on open).
final class SealedLogs: Sendable {
    let listing: SegmentListing
    private let state = Mutex(State())

    private struct State: ~Copyable {
        var sealed: [UInt32: Segment] = [:]
        var active: [UInt32: ActiveSegmentLogs] = [:]
    }

    struct Segment: Sendable {
        var summary: SegmentSummary
        /// The costs as `sealed_segments.costs` holds them: two to four bytes a log, where decoded they would take
        /// eighteen or more (a 10 million log store would keep hundreds of megabytes in memory).
        private var encodedCosts: [UInt8]
        /// Where its blocks start in its rows (a version 2 segment not being rewritten), for lookups by id.
        var blockRows: SegmentBlockRows?

        init(summary: SegmentSummary, costs: SegmentCosts, blockRows: SegmentBlockRows? = nil) {
            self.summary = summary
            self.encodedCosts = costs.encoded()
            self.blockRows = blockRows
        }

        /// Row `row`'s cost and saved amount, decoding only the rows before it.
        func cost(row: Int) -> (cost: Int64?, saved: Int64?)? {
            encodedCosts.withUnsafeBytes { raw -> (cost: Int64?, saved: Int64?)? in
                var r = WireReader(raw)
                do {
                    for _ in 0..<row {
                        _ = try r.optionalZigzag()
                        _ = try r.optionalZigzag()
                    }
                    return (try r.optionalZigzag(), try r.optionalZigzag())
                } catch {
                    return nil
                }
            }
        }

        /// The rows' costs, decoded (they were checked when loaded or written).
        var costs: SegmentCosts {
            get { (try? SegmentCosts(encoded: encodedCosts)) ?? SegmentCosts(rows: 0) }
            set { encodedCosts = newValue.encoded() }
        }
    }

    init(reader: SegmentReader) {
        listing = SegmentListing(reader: reader)
    }

    var isEmpty: Bool { state.withLock { $0.sealed.isEmpty && $0.active.isEmpty } }

    /// Every segment's summary, sealed or active.
    var summaries: [SegmentSummary] {
        state.withLock { $0.sealed.values.map(\.summary) + $0.active.values.compactMap(\.summary) }
    }

    /// A sealed segment that answers for its logs (nil for an active one).
    func segment(_ seq: UInt32) -> Segment? { state.withLock { $0.sealed[seq] } }

    func summary(of seq: UInt32) -> SegmentSummary? {
        state.withLock { $0.sealed[seq]?.summary ?? $0.active[seq]?.summary }
    }

    /// Row `row`'s cost and saved amount in a segment (nil when the segment has no such row).
    func cost(of seq: UInt32, row: Int) -> (cost: Int64?, saved: Int64?)? {
        state.withLock { state in
            if let active = state.active[seq] {
                guard row < active.costs.cost.count else { return nil }
                return (active.costs.cost[row], active.costs.saved[row])
            }
            return state.sealed[seq]?.cost(row: row)
        }
    }

    /// A segment's costs by row of its columns.
    func costs(of seq: UInt32) -> SegmentCosts? {
        state.withLock { $0.active[seq]?.costs ?? $0.sealed[seq]?.costs }
    }

    /// A segment's columns: an active segment's as they are now, a sealed one's read (or cached) by the listing.
    func columns(of seq: UInt32) throws -> SegmentColumns {
        if let active = state.withLock({ $0.active[seq]?.columns }) { return active }
        return try listing.columns(of: seq)
    }

    /// A segment's columns if they are in memory (an active segment's, or a sealed one's the listing keeps
    /// decoded), without reading anything.
    func loadedColumns(of seq: UInt32) -> SegmentColumns? {
        state.withLock { $0.active[seq]?.columns } ?? listing.cachedColumns(of: seq)
    }

    /// The segments whose id range holds `id`.
    func segments(holding id: LogID) -> [UInt32] {
        state.withLock { state in
            let summaries = state.sealed.values.map(\.summary) + state.active.values.compactMap(\.summary)
            return summaries.filter { !(id < $0.minID) && !($0.maxID < id) }.map(\.segment).sorted()
        }
    }

    func set(_ segment: Segment) { state.withLock { $0.sealed[segment.summary.segment] = segment } }

    /// Whether `seq` is a sealed segment that answers for its logs.
    func isSealed(_ seq: UInt32) -> Bool { state.withLock { $0.sealed[seq] != nil } }

    /// A sealed segment's block rows, when known.
    func blockRows(of seq: UInt32) -> SegmentBlockRows? { state.withLock { $0.sealed[seq]?.blockRows } }

    func setBlockRows(_ rows: SegmentBlockRows?, of seq: UInt32) { state.withLock { $0.sealed[seq]?.blockRows = rows } }

    func setCosts(_ costs: SegmentCosts, of seq: UInt32) {
        state.withLock { state in
            if state.active[seq] != nil {
                state.active[seq]?.costs = costs
            } else {
                state.sealed[seq]?.costs = costs
            }
        }
    }

    func remove(_ seq: UInt32) {
        _ = state.withLock { $0.sealed.removeValue(forKey: seq) }
        listing.forget(seq)
    }

    // MARK: Active segments

    /// The active segments' logs, read under the lock.
    func withActive<T>(_ body: (inout [UInt32: ActiveSegmentLogs]) throws -> T) rethrows -> T {
        try state.withLock { try body(&$0.active) }
    }

    /// Segment `seq` is sealed: its active logs give way to `segment` (nil: it does not answer for its logs, they
    /// are in the catalog's rows), in one step, so a reader sees the one or the other.
    func seal(_ seq: UInt32, as segment: Segment?) {
        state.withLock { state in
            state.active[seq] = nil
            if let segment { state.sealed[seq] = segment }
        }
    }
}

/// The cost and saved amount of each row of a sealed segment, in row (append) order: what the catalog priced each
/// log at when it was indexed, or after a reprice. Nil for a usage record, a deleted log or an unpriced one.
struct SegmentCosts: Sendable, Equatable {
    var cost: [Int64?]
    var saved: [Int64?]

    init(rows: Int) {
        cost = Array(repeating: nil, count: rows)
        saved = cost
    }

    /// The `sealed_segments.costs` encoding: per row, cost then saved, each a varint 0 for none, else zigzag + 1.
    func encoded() -> [UInt8] {
        var w = WireWriter(capacity: cost.count * 4)
        for row in cost.indices {
            w.optionalZigzag(cost[row])
            w.optionalZigzag(saved[row])
        }
        return w.bytes
    }

    init(encoded bytes: [UInt8]) throws {
        self.init(rows: 0)
        try bytes.withUnsafeBytes { raw in
            var r = WireReader(raw)
            while !r.isAtEnd {
                cost.append(try r.optionalZigzag())
                saved.append(try r.optionalZigzag())
            }
        }
    }
}
