import TollgateModel

/// A sealed segment's index: record ids sorted, each with its frame's offset and length, searched by bisection.
/// On disk it is a fixed index frame (type 2, 28 bytes an entry) or, in a version 3 segment, a grouped one
/// (type 6, `GroupedIndex`).
public struct SegmentIndex: Sendable, Equatable {
    public let segment: UInt32
    /// Sorted ascending.
    public private(set) var ids: [LogID]
    public private(set) var offsets: [UInt64]
    public private(set) var lengths: [UInt32]

    static let entrySize = 28

    /// Builds the index of the given rows (any order); sorts them by id, keeping append order among equal ids.
    init(segment: UInt32, ids: [LogID], offsets: [UInt64], lengths: [UInt32]) {
        self.segment = segment
        let order = ids.indices.sorted { ids[$0] < ids[$1] || (ids[$0] == ids[$1] && $0 < $1) }
        self.ids = order.map { ids[$0] }
        self.offsets = order.map { offsets[$0] }
        self.lengths = order.map { lengths[$0] }
    }

    /// An index whose rows are already sorted (as a decoder reads them).
    init(segment: UInt32, sortedIDs: [LogID], offsets: [UInt64], lengths: [UInt32]) {
        self.segment = segment
        self.ids = sortedIDs
        self.offsets = offsets
        self.lengths = lengths
    }

    public var count: Int { ids.count }

    /// The location of the record with this id, nil when the segment has none.
    public func location(of id: LogID) -> RecordLocation? {
        var low = 0
        var high = ids.count
        while low < high {
            let mid = (low + high) / 2
            if ids[mid] < id { low = mid + 1 } else { high = mid }
        }
        guard low < ids.count, ids[low] == id else { return nil }
        return RecordLocation(segment: segment, offset: offsets[low], length: lengths[low])
    }

    func encode() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(Self.payloadSize(count: count))
        Self.encode(ids: ids, offsets: offsets, lengths: lengths, order: ids.indices.map { UInt32($0) }) {
            out.append(contentsOf: $0)
        }
        return out
    }

    /// The size of the index frame's payload for `count` rows.
    static func payloadSize(count: Int) -> Int { 4 + count * entrySize }

    /// The row order of the index frame for rows in append order: by id, append order among equal ids.
    static func order(of ids: [LogID]) -> [UInt32] {
        var order = (0..<UInt32(ids.count)).map { $0 }
        order.sort { ids[Int($0)] < ids[Int($1)] || (ids[Int($0)] == ids[Int($1)] && $0 < $1) }
        return order
    }

    /// Entries a piece of the payload holds when it is handed over in pieces.
    static let entriesPerPiece = 4_096

    /// The index frame's payload for rows taken in `order` (a permutation, so the rows are never copied sorted),
    /// handed to `sink` in pieces of at most `entriesPerPiece` entries: `payloadSize(count:)` bytes in all.
    static func encode(
        ids: [LogID], offsets: [UInt64], lengths: [UInt32], order: [UInt32],
        into sink: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        var w = WireWriter(capacity: 4 + Swift.min(order.count, entriesPerPiece) * entrySize)
        w.u32(UInt32(order.count))
        for start in stride(from: 0, to: order.count, by: entriesPerPiece) {
            for row in order[start..<Swift.min(start + entriesPerPiece, order.count)] {
                let i = Int(row)
                w.u64(ids[i].high)
                w.u64(ids[i].low)
                w.u64(offsets[i])
                w.u32(lengths[i])
            }
            try w.bytes.withUnsafeBytes(sink)
            w.bytes.removeAll(keepingCapacity: true)
        }
        if !w.bytes.isEmpty { try w.bytes.withUnsafeBytes(sink) }
    }

    /// Decodes an index frame's payload of either type: fixed entries (type 2) or grouped (type 6, `GroupedIndex`).
    static func decode(_ payload: UnsafeRawBufferPointer, type: FrameType, segment: UInt32) throws -> SegmentIndex {
        type == .groupedIndex
            ? try GroupedIndex.decode(payload, segment: segment) : try decode(payload, segment: segment)
    }

    /// Decodes a fixed index frame's payload (type 2).
    static func decode(_ payload: UnsafeRawBufferPointer, segment: UInt32) throws -> SegmentIndex {
        var r = WireReader(payload)
        let count = Int(try r.u32())
        guard r.remaining == count * entrySize else {
            throw SegmentError(
                .corrupt, "index of segment \(segment) declares \(count) entries in \(payload.count) bytes")
        }
        var ids: [LogID] = []
        var offsets: [UInt64] = []
        var lengths: [UInt32] = []
        ids.reserveCapacity(count)
        offsets.reserveCapacity(count)
        lengths.reserveCapacity(count)
        for _ in 0..<count {
            let high = try r.u64()
            let low = try r.u64()
            ids.append(LogID(high: high, low: low))
            offsets.append(try r.u64())
            lengths.append(try r.u32())
        }
        // Non-decreasing: a record appended twice is indexed twice (lookups find the first).
        for i in ids.indices.dropFirst() where ids[i] < ids[i - 1] {
            throw SegmentError(.corrupt, "index of segment \(segment) is not sorted at entry \(i)")
        }
        return SegmentIndex(segment: segment, sortedIDs: ids, offsets: offsets, lengths: lengths)
    }
}
