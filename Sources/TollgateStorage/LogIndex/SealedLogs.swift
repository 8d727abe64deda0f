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
        var costs: [UInt32: EncodedSegmentCosts] = [:]
        var costOrder: [UInt32] = []
        /// Changed whenever a sealed segment's costs change: a read of the table that began before is not kept.
        var costGeneration: UInt64 = 0

        mutating func keepCosts(_ encoded: EncodedSegmentCosts, of seq: UInt32) {
            costs[seq] = encoded
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
        var costs = try pageCosts(of: seq, in: db)
        return costs?.costs(of: row)
    }

    /// A segment's costs by row of its columns: an active segment's from memory, a sealed one's from its costs
    /// (read through `db` unless they are in memory).
    func costs(of seq: UInt32, in db: SQLiteConnection) throws -> SegmentCosts? {
        if let active = state.withLock({ $0.active[seq]?.costs }) { return active }
        return try encodedCosts(of: seq, in: db).map { SegmentCosts(encoded: $0) }
    }

    /// A segment's costs as a page reads them, row by row: an active segment's from memory, a sealed one's as
    /// stored (read through `db` unless they are in memory), neither decoded whole.
    enum PageCosts {
        case active(SegmentCosts)
        case sealed(EncodedSegmentCosts.Reader)

        /// Row `row`'s cost and saved amount (nil when the segment has no such row).
        mutating func costs(of row: Int) -> (cost: Int64?, saved: Int64?)? {
            switch self {
            case .active(let costs):
                return row < costs.cost.count ? (costs.cost[row], costs.saved[row]) : nil
            case .sealed(var reader):
                guard row < reader.costs.count else { return nil }
                let found = reader.costs(of: row)
                self = .sealed(reader)
                return found
            }
        }
    }

    func pageCosts(of seq: UInt32, in db: SQLiteConnection) throws -> PageCosts? {
        if let active = state.withLock({ $0.active[seq]?.costs }) { return .active(active) }
        return try encodedCosts(of: seq, in: db).map { .sealed($0.reader()) }
    }

    /// A sealed segment's costs as `sealed_segments.costs` holds them: from memory, or read through `db` (and kept,
    /// unless the costs changed meanwhile). nil when `seq` is not a sealed segment that answers for its logs.
    private func encodedCosts(of seq: UInt32, in db: SQLiteConnection) throws -> EncodedSegmentCosts? {
        let (known, generation) = state.withLock { state -> (EncodedSegmentCosts??, UInt64) in
            guard state.sealed[seq] != nil else { return (.some(nil), state.costGeneration) }
            guard let bytes = state.costs[seq] else { return (nil, state.costGeneration) }
            state.keepCosts(bytes, of: seq)
            return (bytes, state.costGeneration)
        }
        if let known { return known }
        let bytes = try db.queryFirst(
            NamedQueries.sql("sealed_segment_costs"), [.integer(Int64(seq))], row: { $0.blob(at: 0) })
        guard let bytes else { return nil }
        let encoded = try EncodedSegmentCosts(bytes)
        state.withLock { state in
            if state.costGeneration == generation && state.sealed[seq] != nil { state.keepCosts(encoded, of: seq) }
        }
        return encoded
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

    /// A segment's costs changed (committed to `sealed_segments.costs` for a sealed one, whose copy in memory is
    /// dropped: the next read takes the committed bytes, rather than encoding them here a second time).
    func setCosts(_ costs: SegmentCosts, of seq: UInt32) {
        state.withLock { state in
            if state.active[seq] != nil {
                state.active[seq]?.costs = costs
            } else if state.sealed[seq] != nil {
                state.forgetCosts(of: seq)
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
    func seal(_ seq: UInt32, as segment: Segment?, costs: EncodedSegmentCosts? = nil) {
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

    init(encoded: EncodedSegmentCosts) {
        self.init(rows: encoded.count)
        var reader = encoded.reader()
        for row in 0..<encoded.count {
            (cost[row], saved[row]) = reader.costs(of: row)
        }
    }
}

/// A sealed segment's costs as `sealed_segments.costs` holds them (per row, cost then saved, each a varint 0 for
/// none, else zigzag + 1: two to four bytes a log), read by row without decoding the whole segment: the byte offset
/// of every 64th row is noted when they are checked, so a row costs at most 63 rows skipped, and rows read in order
/// (a listing's or an export's page) cost one row each.
struct EncodedSegmentCosts: Sendable, Equatable {
    let bytes: [UInt8]
    /// The byte offset of rows 0, 64, 128, ….
    private let checkpoints: [UInt32]
    /// Rows.
    let count: Int

    static let checkpointRows = 64

    /// Checks `bytes` (every row's two values well formed) and notes its checkpoints.
    init(_ bytes: [UInt8]) throws {
        var checkpoints: [UInt32] = []
        var count = 0
        try bytes.withUnsafeBytes { raw in
            var r = WireReader(raw)
            while !r.isAtEnd {
                if count % Self.checkpointRows == 0 { checkpoints.append(UInt32(r.position)) }
                _ = try r.optionalZigzag()
                _ = try r.optionalZigzag()
                count += 1
            }
        }
        self.bytes = bytes
        self.checkpoints = checkpoints
        self.count = count
    }

    init(_ costs: SegmentCosts) {
        var w = WireWriter(capacity: costs.cost.count * 4)
        var checkpoints: [UInt32] = []
        checkpoints.reserveCapacity((costs.cost.count + Self.checkpointRows - 1) / Self.checkpointRows)
        for row in 0..<costs.cost.count {
            if row % Self.checkpointRows == 0 { checkpoints.append(UInt32(w.bytes.count)) }
            w.optionalZigzag(costs.cost[row])
            w.optionalZigzag(costs.saved[row])
        }
        bytes = w.bytes
        self.checkpoints = checkpoints
        count = costs.cost.count
    }

    /// Row `row`'s cost and saved amount (nil: no such row).
    func costs(of row: Int) -> (cost: Int64?, saved: Int64?)? {
        guard row >= 0, row < count else { return nil }
        var reader = reader()
        return reader.costs(of: row)
    }

    func reader() -> Reader { Reader(costs: self) }

    /// Reads rows in any order, cheapest in increasing order: it goes on from the row read last when that is
    /// closer than the checkpoint before the row asked for.
    struct Reader {
        let costs: EncodedSegmentCosts
        /// The next row and its byte offset.
        private var row = 0
        private var offset = 0

        init(costs: EncodedSegmentCosts) { self.costs = costs }

        /// Row `row`'s values; `row` must be below `count`.
        mutating func costs(of target: Int) -> (cost: Int64?, saved: Int64?) {
            precondition(target >= 0 && target < costs.count, "row out of range")
            let checkpoint = target / EncodedSegmentCosts.checkpointRows
            if target < row || target - row > target - checkpoint * EncodedSegmentCosts.checkpointRows {
                row = checkpoint * EncodedSegmentCosts.checkpointRows
                offset = Int(costs.checkpoints[checkpoint])
            }
            // The bytes were checked when made, so a read cannot fail.
            return costs.bytes.withUnsafeBytes { raw -> (cost: Int64?, saved: Int64?) in
                var r = WireReader(raw, from: offset)
                while row < target {
                    _ = try! r.optionalZigzag()
                    _ = try! r.optionalZigzag()
                    row += 1
                }
                let found = (try! r.optionalZigzag(), try! r.optionalZigzag())
                row += 1
                offset = r.position
                return found
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
