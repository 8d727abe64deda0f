import Synchronization
import TollgateModel

/// The segments whose logs the segments themselves answer for, as the catalog keeps them in memory: the sealed
/// ones (`sealed_segments`: each one's summary, loaded when the catalog opens and changed by the
/// transactions that change the table, `Catalog+SealedLogs.swift`) and the ones still being written, whose logs are
/// only here (`ActiveSegmentLogs`, rebuilt from the segments on open).
final class SealedLogs: Sendable {
    let listing: SegmentListing
    private let state = Mutex(State())

    private struct State: ~Copyable {
        var sealed: [UInt32: Segment] = [:]
        var active: [UInt32: ActiveSegmentLogs] = [:]
        /// The costs of the sealed segments read or sealed last, as `sealed_segments.costs` holds them, newest
        /// last in `costOrder`.
        var costs: [UInt32: [UInt8]] = [:]
        var costOrder: [UInt32] = []
        /// Changed whenever a sealed segment's costs change: a read of the table that began before is not kept.
        var costGeneration: UInt64 = 0

        mutating func keepCosts(_ bytes: [UInt8], of seq: UInt32) {
            costs[seq] = bytes
            costOrder.removeAll { $0 == seq }
            costOrder.append(seq)
            while costOrder.count > SealedLogs.costSegments { costs[costOrder.removeFirst()] = nil }
        }

        mutating func forgetCosts(of seq: UInt32) {
            costs[seq] = nil
            costOrder.removeAll { $0 == seq }
            costGeneration &+= 1
        }
    }

    /// A sealed segment in memory: its summary and where its blocks start. Its logs' costs stay in
    /// `sealed_segments.costs` (two to four bytes a log; about 200 MB at 34 million logs, read and checked at every
    /// open when they were held here) and are read when a listing or a lookup needs them; the last
    /// `costSegments` read stay in memory.
    struct Segment: Sendable {
        var summary: SegmentSummary
        /// Where its blocks start in its rows (a version 2 segment not being rewritten), for lookups by id.
        var blockRows: SegmentBlockRows?

        init(summary: SegmentSummary, blockRows: SegmentBlockRows? = nil) {
            self.summary = summary
            self.blockRows = blockRows
        }
    }

    /// How many sealed segments' costs stay in memory once read: a listing's page reads the newest few.
    static let costSegments = 4

    /// The sealed segments whose costs are in memory now.
    var segmentsWithCostsInMemory: Int { state.withLock { $0.costs.count } }

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

    /// Row `row`'s cost and saved amount in a segment (nil when the segment has no such row): an active segment's
    /// from memory, a sealed one's from its costs (read through `db` unless they are in memory).
    func cost(of seq: UInt32, row: Int, in db: SQLiteConnection) throws -> (cost: Int64?, saved: Int64?)? {
        let active = state.withLock { state -> (cost: Int64?, saved: Int64?)?? in
            guard let active = state.active[seq] else { return nil }
            guard row < active.costs.cost.count else { return .some(nil) }
            return (active.costs.cost[row], active.costs.saved[row])
        }
        if let active { return active }
        return try encodedCosts(of: seq, in: db).flatMap { SegmentCosts.cost(row: row, of: $0) }
    }

    /// A segment's costs by row of its columns: an active segment's from memory, a sealed one's from its costs
    /// (read through `db` unless they are in memory).
    func costs(of seq: UInt32, in db: SQLiteConnection) throws -> SegmentCosts? {
        if let active = state.withLock({ $0.active[seq]?.costs }) { return active }
        return try encodedCosts(of: seq, in: db).map { try SegmentCosts(encoded: $0) }
    }

    /// A sealed segment's costs as `sealed_segments.costs` holds them: from memory, or read through `db` (and kept,
    /// unless the costs changed meanwhile). nil when `seq` is not a sealed segment that answers for its logs.
    private func encodedCosts(of seq: UInt32, in db: SQLiteConnection) throws -> [UInt8]? {
        let (known, generation) = state.withLock { state -> ([UInt8]??, UInt64) in
            guard state.sealed[seq] != nil else { return (.some(nil), state.costGeneration) }
            guard let bytes = state.costs[seq] else { return (nil, state.costGeneration) }
            state.keepCosts(bytes, of: seq)
            return (bytes, state.costGeneration)
        }
        if let known { return known }
        let bytes = try db.queryFirst(
            NamedQueries.sql("sealed_segment_costs"), [.integer(Int64(seq))], row: { $0.blob(at: 0) })
        guard let bytes else { return nil }
        state.withLock { state in
            if state.costGeneration == generation && state.sealed[seq] != nil { state.keepCosts(bytes, of: seq) }
        }
        return bytes
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

    func set(_ segment: Segment) {
        state.withLock { state in
            state.sealed[segment.summary.segment] = segment
            state.forgetCosts(of: segment.summary.segment)
        }
    }

    /// Whether `seq` is a sealed segment that answers for its logs.
    func isSealed(_ seq: UInt32) -> Bool { state.withLock { $0.sealed[seq] != nil } }

    /// A sealed segment's block rows, when known.
    func blockRows(of seq: UInt32) -> SegmentBlockRows? { state.withLock { $0.sealed[seq]?.blockRows } }

    func setBlockRows(_ rows: SegmentBlockRows?, of seq: UInt32) { state.withLock { $0.sealed[seq]?.blockRows = rows } }

    /// A segment's costs changed (committed to `sealed_segments.costs` for a sealed one).
    func setCosts(_ costs: SegmentCosts, of seq: UInt32) {
        state.withLock { state in
            if state.active[seq] != nil {
                state.active[seq]?.costs = costs
            } else if state.sealed[seq] != nil {
                state.forgetCosts(of: seq)
                state.keepCosts(costs.encoded(), of: seq)
            }
        }
    }

    func remove(_ seq: UInt32) {
        state.withLock { state in
            state.sealed[seq] = nil
            state.forgetCosts(of: seq)
        }
        listing.forget(seq)
    }

    // MARK: Active segments

    /// The active segments' logs, read under the lock.
    func withActive<T>(_ body: (inout [UInt32: ActiveSegmentLogs]) throws -> T) rethrows -> T {
        try state.withLock { try body(&$0.active) }
    }

    /// Segment `seq` is sealed: its active logs give way to `segment` (nil: it does not answer for its logs, they
    /// are in the catalog's rows), in one step, so a reader sees the one or the other.
    func seal(_ seq: UInt32, as segment: Segment?, costs: [UInt8]? = nil) {
        state.withLock { state in
            state.active[seq] = nil
            if let segment { state.sealed[seq] = segment }
            state.forgetCosts(of: seq)
            if segment != nil, let costs { state.keepCosts(costs, of: seq) }
        }
    }
}

/// The cost and saved amount of each row of a sealed segment, in row (append) order: what the catalog priced each
/// log at when it was indexed, or after a reprice. Nil for a usage record, a deleted log or an unpriced one.
struct SegmentCosts: Sendable, Equatable {
    var cost: OptionalInt64s
    var saved: OptionalInt64s

    init(rows: Int) {
        cost = OptionalInt64s(nils: rows)
        saved = cost
    }

    /// Row `row`'s cost and saved amount in costs so encoded, decoding only the rows before it (nil: no such row).
    static func cost(row: Int, of encoded: [UInt8]) -> (cost: Int64?, saved: Int64?)? {
        encoded.withUnsafeBytes { raw -> (cost: Int64?, saved: Int64?)? in
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

    /// The `sealed_segments.costs` encoding: per row, cost then saved, each a varint 0 for none, else zigzag + 1.
    func encoded() -> [UInt8] {
        var w = WireWriter(capacity: cost.count * 4)
        for row in 0..<cost.count {
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

/// Optional integers, 8 bytes and a bit each: the values, and a bit per value that says whether it is there. As
/// `[Int64?]` they take 16 bytes each (the value and its tag, padded); a segment being written holds two such columns
/// for up to 65,536 logs, and a seal makes two more.
struct OptionalInt64s: Sendable, Equatable {
    private var values: [Int64] = []
    private var present: [UInt64] = []

    init() {}

    /// `count` values, none of them there.
    init(nils count: Int) {
        values = Array(repeating: 0, count: count)
        present = Array(repeating: 0, count: (count + 63) / 64)
    }

    var count: Int { values.count }

    subscript(index: Int) -> Int64? {
        get { present[index >> 6] & (1 << UInt64(index & 63)) != 0 ? values[index] : nil }
        set {
            let bit: UInt64 = 1 << UInt64(index & 63)
            if let newValue {
                values[index] = newValue
                present[index >> 6] |= bit
            } else {
                values[index] = 0
                present[index >> 6] &= ~bit
            }
        }
    }

    mutating func append(_ value: Int64?) {
        if values.count & 63 == 0 { present.append(0) }
        values.append(0)
        self[values.count - 1] = value
    }
}
