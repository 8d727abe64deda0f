import Synchronization
import TollgateModel

/// The sealed segments whose logs the segments themselves answer for (`sealed_segments`), as the catalog keeps
/// them in memory: each one's summary and its logs' costs. Loaded when the catalog opens, changed by the
/// transactions that change the table (`Catalog+SealedLogs.swift`).
final class SealedLogs: Sendable {
    let listing: SegmentListing
    private let segments = Mutex<[UInt32: Segment]>([:])

    struct Segment: Sendable {
        var summary: SegmentSummary
        /// The costs as `sealed_segments.costs` holds them: two to four bytes a log, where decoded they would take
        /// eighteen or more (a 10 million log store would keep hundreds of megabytes in memory).
        private var encodedCosts: [UInt8]

        init(summary: SegmentSummary, costs: SegmentCosts) {
            self.summary = summary
            self.encodedCosts = costs.encoded()
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

    var isEmpty: Bool { segments.withLock { $0.isEmpty } }
    var summaries: [SegmentSummary] { segments.withLock { $0.values.map(\.summary) } }
    func segment(_ seq: UInt32) -> Segment? { segments.withLock { $0[seq] } }

    /// The segments whose id range holds `id`.
    func segments(holding id: LogID) -> [UInt32] {
        segments.withLock { all in
            all.values.filter { !(id < $0.summary.minID) && !($0.summary.maxID < id) }.map(\.summary.segment).sorted()
        }
    }

    func set(_ segment: Segment) { segments.withLock { $0[segment.summary.segment] = segment } }

    func setCosts(_ costs: SegmentCosts, of seq: UInt32) { segments.withLock { $0[seq]?.costs = costs } }

    func remove(_ seq: UInt32) {
        _ = segments.withLock { $0.removeValue(forKey: seq) }
        listing.forget(seq)
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
