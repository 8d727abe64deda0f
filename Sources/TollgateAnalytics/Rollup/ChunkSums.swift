import Synchronization
import TollgateStorage

/// The cells of one stored part of a chunk added up by (bucket of the chunk, group) for one grouping and one set of
/// columns, with the percentiles of each sum computed (unless another part of the chunk has the same bucket and
/// group): what a usage query needs of the part, whatever its window.
/// A query row covered by one stored bucket of one part takes an entry as it is (no sketch added, no quantile walk);
/// rows covered by more add up the entries' sums and sketches.
///
/// A part of a minute or hour chunk also keeps, per group, the sums of aligned runs of its buckets (`blocks`: 2, 4,
/// 8, … buckets, a segment tree over the chunk's buckets), so that a row holding a run of them (the first and last
/// day of a rolling window: 14:37–15:00 and 15:00–24:00) adds a few block sums instead of one entry per bucket.
/// Sketches cannot be subtracted from a prefix without keeping a window per bucket; blocks keep the sketches'
/// bucket counts exactly as adding their entries would, at about the memory of the entries again.
final class PartSums: Sendable {
    let part: Int64
    /// The groups of the entries (`group` indexes it).
    let groups: [UsageGroup]
    /// Per entry, ascending: the bucket number within the chunk.
    let offsets: [Int32]
    /// Per entry: its group in `groups`.
    let group: [Int32]
    /// Per entry, then per block sum (indices `count…`, see `blocks`): the sums, with `latency` and `ttft`
    /// percentiles when the columns were read and no other part of the chunk has an entry of the same bucket and group
    /// (never for block sums).
    let values: [UsageValues]
    /// Per entry and block sum, when read: the bucket counts the percentiles come from.
    let latency: [SketchAccumulator]
    let ttft: [SketchAccumulator]
    /// The segment tree of each group over the chunk's `bucketsPerChunk` buckets (empty: none kept): per group
    /// `nodesPerGroup` entry numbers, level by level (`levelStarts`), level 0 the buckets (the entry of that bucket),
    /// level k the aligned runs of 2^k buckets (a block sum, the entry or block below when only one of its two halves
    /// holds anything); -1 where the group has nothing.
    let blocks: [Int32]
    let bucketsPerChunk: Int
    let levelStarts: [Int]
    let nodesPerGroup: Int
    /// Per group of `groups`: how many entries it has, and their sum (the group's total over the part) when it has at
    /// least `entriesForTotal`. A query whose window holds most of a group's entries takes the total less the others.
    let groupEntries: [Int32]
    let groupTotals: [UsageAccumulator]
    /// Roughly the memory held.
    let bytes: Int

    /// Fewest entries of a group for its total to be kept: below, adding the entries costs as little.
    static let entriesForTotal: Int32 = 4

    init(
        part: Int64, groups: [UsageGroup], offsets: [Int32], group: [Int32], values: [UsageValues],
        latency: [SketchAccumulator], ttft: [SketchAccumulator], groupEntries: [Int32],
        groupTotals: [UsageAccumulator], blocks: [Int32] = [], bucketsPerChunk: Int = 0
    ) {
        self.part = part
        self.groups = groups
        self.offsets = offsets
        self.group = group
        self.values = values
        self.latency = latency
        self.ttft = ttft
        self.groupEntries = groupEntries
        self.groupTotals = groupTotals
        self.blocks = blocks
        self.bucketsPerChunk = blocks.isEmpty ? 0 : bucketsPerChunk
        levelStarts = Self.levelStarts(buckets: self.bucketsPerChunk)
        nodesPerGroup = levelStarts.last ?? 0
        bytes =
            groups.count * (16 + MemoryLayout<UsageAccumulator>.stride)
            + values.count * (8 + MemoryLayout<UsageValues>.stride) + blocks.count * 4
            + latency.reduce(0) { $0 + $1.byteSize } + ttft.reduce(0) { $0 + $1.byteSize }
            + groupTotals.reduce(0) { $0 + $1.latency.byteSize + $1.ttft.byteSize }
    }

    /// The entries (block sums come after them in `values`, `latency` and `ttft`).
    var count: Int { offsets.count }

    /// Where each level of a segment tree over `buckets` buckets starts, and (last) the nodes in all: level k has
    /// ⌈buckets / 2^k⌉ nodes, up to the level of one node. None for 0 or 1 bucket.
    static func levelStarts(buckets: Int) -> [Int] {
        guard buckets > 1 else { return [] }
        var starts = [0]
        var width = buckets
        while width > 1 {
            starts.append(starts.last! + width)
            width = (width + 1) / 2
        }
        starts.append(starts.last! + 1)
        return starts
    }

    /// Calls `body` with the entry or block sum of every node that together hold exactly the buckets
    /// `first..<end` of group `local` (at most two per level, a node of a level not kept as its two halves),
    /// skipping the nodes where it has nothing. Only for parts with `blocks`.
    @inline(__always)
    func forEachNode(group local: Int, first: Int, end: Int, _ body: (Int) -> Void) {
        blocks.withUnsafeBufferPointer { tree in
            levelStarts.withUnsafeBufferPointer { starts in
                let base = local * nodesPerGroup
                // A node: its entry or block sum, or (`Self.halves`) its two halves.
                func visit(_ level: Int, _ j: Int) {
                    let node = Int(tree[base + starts[level] + j])
                    if node >= 0 {
                        body(node)
                    } else if node == Self.halves {
                        visit(level - 1, 2 * j)
                        if 2 * j + 1 < starts[level] - starts[level - 1] { visit(level - 1, 2 * j + 1) }
                    }
                }
                var (l, r, level) = (first, end, 0)
                while l < r {
                    if l & 1 == 1 {
                        visit(level, l)
                        l += 1
                    }
                    if r & 1 == 1 {
                        r -= 1
                        visit(level, r)
                    }
                    l >>= 1
                    r >>= 1
                    level += 1
                }
            }
        }
    }

    /// In `blocks`: a node whose block sum is not kept (its level is not in `keptLevels`), taken as its two halves.
    static let halves: Int32 = -2

    /// The sums of a part's entries before they are kept (`init(part:decoded:…)`).
    struct Decoded {
        var offsets: [Int32]
        var group: [Int32]
        var sums: [UsageAccumulator]

        /// Each entry's (bucket, group) as one number.
        func key(_ entry: Int) -> UInt64 { UInt64(UInt32(offsets[entry])) << 32 | UInt64(UInt32(group[entry])) }
    }

    /// The sums of every part of a chunk, `decoded` in part order. An entry's percentiles are computed only when no
    /// other part has an entry of its (bucket, group): otherwise a query row holding it adds up both.
    static func parts(
        _ decoded: [(part: Int64, decoded: Decoded)], read: [RollupColumn], groups: [UsageGroup],
        bucketsPerChunk: Int = 0
    ) -> [PartSums] {
        var shared: Set<UInt64> = []
        if decoded.count > 1 {
            var seen: Set<UInt64> = []
            for (_, part) in decoded {
                for entry in part.offsets.indices where !seen.insert(part.key(entry)).inserted {
                    shared.insert(part.key(entry))
                }
            }
        }
        return decoded.map { part, decoded in
            PartSums(
                part: part, decoded: decoded, read: read, groups: groups, bucketsPerChunk: bucketsPerChunk,
                alone: { shared.isEmpty || !shared.contains(decoded.key($0)) })
        }
    }

    /// Adds up the cells of a part: `columns` holds its blobs (`bucket` and `series` at least), `seriesGroup` the
    /// group and flags of every series (`UsageReader.seriesGroup`), `read` the columns to add.
    static func decode(
        columns blobs: [RollupColumn: [UInt8]], read: [RollupColumn], groups: [UsageGroup],
        seriesGroup: [Int64: (group: Int, flags: UInt8)]
    ) throws -> Decoded {
        guard let bucketBlob = blobs[.bucket], let seriesBlob = blobs[.series] else {
            throw RollupError.corruptChunk("part without bucket or series column")
        }
        var header = ByteReader(bucketBlob)
        let n = try ChunkCodec.header(&header, expected: nil)
        let cellOffsets = try ChunkCodec.integers(bucketBlob, count: n, signed: false)
        let cellSeries = try ChunkCodec.integers(seriesBlob, count: n, signed: false)

        // The entry of every cell: cells come in (bucket, series) order, so the entries of one bucket are made
        // while its cells are read, one per group.
        var offsets: [Int32] = []
        var group: [Int32] = []
        var cellEntry = [Int](repeating: 0, count: n)
        var cellFlags = [UInt8](repeating: 0, count: n)
        var entryOfGroup = [Int](repeating: -1, count: groups.count)
        var bucketEntries: [Int] = []
        var lastOffset: Int64 = -1
        for i in 0..<n {
            if cellOffsets[i] != lastOffset {
                guard cellOffsets[i] > lastOffset, cellOffsets[i] <= Int64(Int32.max) else {
                    throw RollupError.corruptChunk("cells out of order")
                }
                lastOffset = cellOffsets[i]
                for e in bucketEntries { entryOfGroup[Int(group[e])] = -1 }
                bucketEntries.removeAll(keepingCapacity: true)
            }
            guard let (g, flags) = seriesGroup[cellSeries[i]] else {
                throw RollupError.corruptChunk("unknown series \(cellSeries[i])")
            }
            var entry = entryOfGroup[g]
            if entry < 0 {
                entry = offsets.count
                offsets.append(Int32(lastOffset))
                group.append(Int32(g))
                entryOfGroup[g] = entry
                bucketEntries.append(entry)
            }
            cellEntry[i] = entry
            cellFlags[i] = flags
        }

        var sums = [UsageAccumulator](repeating: UsageAccumulator(), count: offsets.count)
        for column in read {
            guard let blob = blobs[column] else { continue }
            var reader = ByteReader(blob)
            _ = try ChunkCodec.header(&reader, expected: n)
            switch column {
            case .latency:
                for i in 0..<n { try sums[cellEntry[i]].latency.add(from: &reader) }
            case .ttft:
                for i in 0..<n { try sums[cellEntry[i]].ttft.add(from: &reader) }
            case .cost:
                for i in 0..<n { sums[cellEntry[i]].values.cost.picodollars += try reader.signed128() }
            case .saved:
                for i in 0..<n { sums[cellEntry[i]].values.saved.picodollars += try reader.signed128() }
            case .requests:
                for i in 0..<n {
                    let value = try reader.signed()
                    let e = cellEntry[i]
                    sums[e].values.requests += value
                    // Errors, cached, unpriced and refused requests are the requests of series that say so.
                    let flags = cellFlags[i]
                    guard flags != 0 else { continue }
                    if flags & UsageReader.Flags.error != 0 { sums[e].values.errors += value }
                    if flags & UsageReader.Flags.cached != 0 { sums[e].values.cached += value }
                    if flags & UsageReader.Flags.unpriced != 0 { sums[e].values.unpriced += value }
                    if flags & UsageReader.Flags.rateLimited != 0 { sums[e].values.rateLimited += value }
                    if flags & UsageReader.Flags.spendLimited != 0 { sums[e].values.spendLimited += value }
                }
            default:
                for i in 0..<n { sums[cellEntry[i]].add(column, try reader.signed()) }
            }
        }
        return Decoded(offsets: offsets, group: group, sums: sums)
    }

    /// The kept form of a part's `decoded` sums, with the percentiles of the entries that are `alone`, and the
    /// block sums of a chunk of `bucketsPerChunk` buckets (none for 0).
    convenience init(
        part: Int64, decoded: Decoded, read: [RollupColumn], groups: [UsageGroup], bucketsPerChunk: Int = 0,
        alone: (Int) -> Bool
    ) {
        let (offsets, group, sums) = (decoded.offsets, decoded.group, decoded.sums)
        let wantLatency = read.contains(.latency)
        let wantTTFT = read.contains(.ttft)
        var values: [UsageValues] = []
        values.reserveCapacity(sums.count)
        var latency: [SketchAccumulator] = []
        var ttft: [SketchAccumulator] = []
        var groupEntries = [Int32](repeating: 0, count: groups.count)
        for g in group { groupEntries[Int(g)] += 1 }
        var groupTotals = [UsageAccumulator](repeating: UsageAccumulator(), count: groups.count)
        for (entry, sum) in sums.enumerated() {
            var v = sum.values
            let single = alone(entry)
            if wantLatency {
                if single { v.latency = sum.latency.percentiles }
                latency.append(sum.latency.compacted())
            }
            if wantTTFT {
                if single { v.ttft = sum.ttft.percentiles }
                ttft.append(sum.ttft.compacted())
            }
            values.append(v)
            let g = Int(group[entry])
            if groupEntries[g] >= Self.entriesForTotal { groupTotals[g].merge(sum) }
        }
        for g in groupTotals.indices where groupEntries[g] >= Self.entriesForTotal {
            groupTotals[g].latency = groupTotals[g].latency.compacted()
            groupTotals[g].ttft = groupTotals[g].ttft.compacted()
        }
        let blocks = Self.blocks(
            buckets: bucketsPerChunk, keptLevels: Self.keptLevels(buckets: bucketsPerChunk), groups: groups.count,
            offsets: offsets, group: group, values: &values, latency: &latency, ttft: &ttft)
        self.init(
            part: part, groups: groups, offsets: offsets, group: group, values: values, latency: latency, ttft: ttft,
            groupEntries: groupEntries, groupTotals: groupTotals, blocks: blocks, bucketsPerChunk: bucketsPerChunk)
    }

    /// The tree levels whose block sums are kept for a chunk of `buckets` buckets. Minute chunks (60) keep every level:
    /// minute sketches are small, and a rolling window's edge runs through tens of them. Hour chunks (24) keep the
    /// runs of 4 and 8 hours only: their sketches are wide (hundreds of buckets over millions of requests), and runs
    /// of 2 and 16 hours would add about as much memory again for one or two fewer sums per row.
    static func keptLevels(buckets: Int) -> Set<Int> {
        buckets == 24 ? [2, 3] : Set(1..<max(levelStarts(buckets: buckets).count - 1, 1))
    }

    /// The segment trees of every group over `buckets` buckets (see `blocks`), appending the block sums of the
    /// `keptLevels` they need to `values`, `latency` and `ttft` (empty sketch arrays stay empty); the nodes of other
    /// levels are `halves`. None for fewer than 2 buckets.
    static func blocks(
        buckets: Int, keptLevels: Set<Int>, groups: Int, offsets: [Int32], group: [Int32],
        values: inout [UsageValues], latency: inout [SketchAccumulator], ttft: inout [SketchAccumulator]
    ) -> [Int32] {
        let starts = levelStarts(buckets: buckets)
        guard let nodes = starts.last, !offsets.isEmpty, groups > 0 else { return [] }
        var tree = [Int32](repeating: -1, count: groups * nodes)
        for entry in offsets.indices where Int(offsets[entry]) < buckets {
            tree[Int(group[entry]) * nodes + Int(offsets[entry])] = Int32(entry)
        }
        let (wantLatency, wantTTFT) = (!latency.isEmpty, !ttft.isEmpty)
        for g in 0..<groups {
            let base = g * nodes
            // The entries and block sums that make up node j of `level`.
            func parts(_ level: Int, _ j: Int, into list: inout [Int]) {
                let node = tree[base + starts[level] + j]
                if node >= 0 {
                    list.append(Int(node))
                } else if node == halves {
                    parts(level - 1, 2 * j, into: &list)
                    if 2 * j + 1 < starts[level] - starts[level - 1] { parts(level - 1, 2 * j + 1, into: &list) }
                }
            }
            var list: [Int] = []
            for level in 1..<(starts.count - 1) {
                for j in 0..<(starts[level + 1] - starts[level]) {
                    list.removeAll(keepingCapacity: true)
                    parts(level - 1, 2 * j, into: &list)
                    if 2 * j + 1 < starts[level] - starts[level - 1] { parts(level - 1, 2 * j + 1, into: &list) }
                    let node: Int32
                    if list.count <= 1 {
                        // Nothing, or the one entry or block sum below: nothing new to keep.
                        node = list.first.map { Int32($0) } ?? -1
                    } else if !keptLevels.contains(level) {
                        node = halves
                    } else {
                        var sum = UsageAccumulator()
                        for k in list {
                            var other = UsageAccumulator()
                            other.values = values[k]
                            if wantLatency { other.latency = latency[k] }
                            if wantTTFT { other.ttft = ttft[k] }
                            sum.merge(other)
                        }
                        node = Int32(values.count)
                        values.append(sum.values)
                        if wantLatency { latency.append(sum.latency.compacted()) }
                        if wantTTFT { ttft.append(sum.ttft.compacted()) }
                    }
                    tree[base + starts[level] + j] = node
                }
            }
        }
        return tree
    }
}

/// Every part of one chunk as `PartSums`, in part order (none: the chunk holds nothing).
final class ChunkSums: Sendable {
    let chunkStart: Int64
    let parts: [PartSums]
    let bytes: Int

    init(chunkStart: Int64, parts: [PartSums]) {
        self.chunkStart = chunkStart
        self.parts = parts
        bytes = 64 + parts.reduce(0) { $0 + $1.bytes }
    }
}

/// Chunks added up for recent queries, by chunk, grouping and columns, each with the chunk's version it was read at
/// (`RollupSnapshot.settledVersion(of:)`): an entry is used only by a snapshot that finds the chunk settled at that
/// version, which then holds exactly the bytes it was made from. A checkpoint, compaction, repricing or reset
/// changes the version of every chunk it writes; chunks it does not write keep their entries. The least recently
/// used entries go when the entries hold more than `limit` bytes.
final class ChunkSumsCache: Sendable {
    struct Key: Hashable {
        var level: RollupLevel
        var account: String
        var chunkStart: Int64
        /// `UsageGroupField`s grouped by, as bits.
        var grouping: Int
        /// `RollupColumn`s read, as bits.
        var columns: Int
        /// Whether the parts keep block sums (`PartSums.blocks`).
        var blocks = false
    }

    private struct Entry {
        var version: UInt64
        var sums: ChunkSums
        var lastUse: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = limit
    }

    /// The sums of the chunk at `version`, if kept.
    func sums(_ key: Key, version: UInt64) -> ChunkSums? {
        state.withLock { s in
            guard var entry = s.entries[key], entry.version == version else { return nil }
            s.clock += 1
            entry.lastUse = s.clock
            s.entries[key] = entry
            return entry.sums
        }
    }

    /// Keeps the sums of the chunk at `version` (replacing those of another version).
    func keep(_ key: Key, version: UInt64, _ sums: ChunkSums) {
        guard sums.bytes <= limit / 2 else { return }
        state.withLock { s in
            s.clock += 1
            if let old = s.entries.updateValue(Entry(version: version, sums: sums, lastUse: s.clock), forKey: key) {
                s.bytes -= old.sums.bytes
            }
            s.bytes += sums.bytes
            guard s.bytes > limit else { return }
            // Evict the least recently used down to three quarters of the limit.
            var byAge = s.entries.map { (key: $0.key, lastUse: $0.value.lastUse, bytes: $0.value.sums.bytes) }
            byAge.sort { $0.lastUse < $1.lastUse }
            for old in byAge where s.bytes > limit * 3 / 4 {
                s.entries[old.key] = nil
                s.bytes -= old.bytes
            }
        }
    }

    /// Bytes held (for tests).
    var bytes: Int { state.withLock { $0.bytes } }
}
