import Foundation
import TollgateModel
import TollgateStorage

extension RollupEngine {
    /// Usage of one account over `[query.from, query.to)`.
    ///
    /// Each output bucket (aligned in the query's zone) is covered by the coarsest UTC-aligned stored buckets that
    /// fit inside it, like a segment tree: a UTC month query reads one month bucket, a New York day reads hour buckets,
    /// a Kolkata day (UTC+5:30) reads hours and the minutes of its half hours. Only the columns of the measures asked
    /// for are read.
    ///
    /// - Throws: `UsageQueryError` for a bad range (the API's 400), `RollupError`, or the storage's own error when
    ///   the catalog cannot be read.
    public func usage(_ query: UsageQuery) throws -> UsageResult {
        try usage(query, totalsApart: nil)
    }

    /// `usage(_:)` with the way of computing the group totals chosen: read apart as one bucket covering the whole
    /// range (`true`), added up from the rows (`false`), or whichever reads less (`nil`). All three give the same
    /// result; the tests compare them.
    func usage(_ query: UsageQuery, totalsApart: Bool?) throws -> UsageResult {
        guard query.from < query.to else { throw UsageQueryError.emptyRange(from: query.from, to: query.to) }
        for t in [query.from, query.to] where UTCCalendar.floor(t, RollupLevel.minuteMs) != t {
            throw UsageQueryError.notMinuteAligned(t)
        }
        let boundaries = try Self.bucketBoundaries(query, limit: configuration.maxQueryBuckets)

        var columns: [RollupColumn] = [.requests]
        if query.measures.contains(.tokens) { columns += RollupColumn.tokenColumns }
        if query.measures.contains(.cost) { columns += [.cost, .saved] }
        if query.measures.contains(.latency) { columns.append(.latency) }
        if query.measures.contains(.ttft) { columns.append(.ttft) }

        // The rows, then the totals of each group over the whole range. When coarser stored buckets cover the whole
        // range (a month bucket for the 30 days of a calendar month), the totals are read as one more bucket: that
        // is cheaper than adding up the rows' sketches. A rolling window (`from` at 14:37) has no coarser cover: its
        // whole range is the very cells the rows read, so the totals add up the rows' accumulators instead of
        // decoding every cell twice. Both are exact sums of the same inputs, so the rows add up to the totals
        // exactly (percentiles come from identical bucket counts).
        let rowCover = Self.coverage(boundaries: boundaries, from: query.from, to: query.to)
        let wholeCover =
            boundaries.count > 2
            ? Self.coverage(boundaries: [query.from, query.to], from: query.from, to: query.to) : nil
        let separateTotals = wholeCover.map { totalsApart ?? ($0.buckets * 2 <= rowCover.buckets) } ?? false
        var rows = UsageReader(query: query, boundaries: boundaries, columns: columns, cache: chunkSums)
        rows.addsUpGroups = !separateTotals
        var whole = UsageReader(
            query: query, boundaries: [query.from, query.to], columns: columns, cache: chunkSums)
        try store.read { snapshot in
            // One snapshot for every statement: a checkpoint may add parts or compact a chunk between two reads.
            let series = try snapshot.series(account: query.account)
            rows.loadSeries(series)
            try Self.collect(into: &rows, runs: rowCover.runs, snapshot: snapshot)
            if separateTotals, let wholeCover {
                whole.loadSeries(series)
                try Self.collect(into: &whole, runs: wholeCover.runs, snapshot: snapshot)
            }
        }
        return rows.result(totals: separateTotals ? whole : nil)
    }

    /// The stored buckets that cover each bucket of `boundaries` clipped to `[from, to)`: the coarsest that fit,
    /// adjacent stored buckets of a level joined into runs (indexed by level), and how many stored buckets in all.
    static func coverage(boundaries: [Int64], from: Int64, to: Int64)
        -> (runs: [[(start: Int64, end: Int64)]], buckets: Int)
    {
        var runs: [[(start: Int64, end: Int64)]] = [[], [], [], []]
        var buckets = 0
        for i in 0..<(boundaries.count - 1) {
            var t = max(boundaries[i], from)
            let end = min(boundaries[i + 1], to)
            while t < end {
                for level in RollupLevel.allCases.reversed() where level.bucketStart(t) == t {
                    let next = level.nextBucket(t)
                    guard next <= end else { continue }
                    if let last = runs[level.rawValue].last, last.end == t {
                        runs[level.rawValue][runs[level.rawValue].count - 1].end = next
                    } else {
                        runs[level.rawValue].append((t, next))
                    }
                    buckets += 1
                    t = next
                    break
                }
            }
        }
        return (runs, buckets)
    }

    /// Reads what the buckets of `reader` need: the stored buckets of `runs` (from `coverage`), read chunk range by
    /// chunk range.
    static func collect(
        into reader: inout UsageReader, runs: [[(start: Int64, end: Int64)]], snapshot: RollupSnapshot
    ) throws {
        for level in RollupLevel.allCases.reversed() {
            for cluster in clusters(runs[level.rawValue], level: level) {
                try reader.read(level: level, runs: cluster.runs, chunks: cluster.chunks, snapshot: snapshot)
            }
        }
    }

    /// The monthly report of an account: one line per gateway, provider, model and priced/unpriced, with every
    /// measure, for the calendar month `month` (1…12) of `year` in `timeZone`. It is the usage query of that month
    /// at month interval grouped by those fields: `rows` are the lines, `totals` the report's total.
    public func monthlyReport(
        account: String, year: Int, month: Int, timeZone: TimeZone = TimeZone(identifier: "UTC")!
    ) throws -> UsageResult {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        guard let start = calendar.date(from: DateComponents(year: year, month: month, day: 1)),
            let end = calendar.date(byAdding: .month, value: 1, to: start)
        else { throw UsageQueryError.emptyRange(from: 0, to: 0) }
        return try usage(
            UsageQuery(
                account: account, from: Int64(start.timeIntervalSince1970 * 1000),
                to: Int64(end.timeIntervalSince1970 * 1000), interval: .month,
                groupBy: [.gateway, .provider, .model, .priced], timeZone: timeZone, measures: .all))
    }

    /// Bucket boundaries `b0 ≤ from < b1 < … < bn ≥ to`, aligned to the interval in the query's zone.
    static func bucketBoundaries(_ query: UsageQuery, limit: Int) throws -> [Int64] {
        let zone = query.timeZone
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        func date(_ t: Int64) -> Date { Date(timeIntervalSince1970: Double(t) / 1000) }
        func ms(_ d: Date) -> Int64 { Int64((d.timeIntervalSince1970 * 1000).rounded()) }
        func align(_ t: Int64, _ size: Int64) -> Int64 {
            let offset = Int64(zone.secondsFromGMT(for: date(t))) * 1000
            let aligned = UTCCalendar.floor(t + offset, size) - offset
            return aligned > t ? aligned - size : aligned
        }
        var boundaries: [Int64] = []
        var current: Int64
        let next: (Int64) -> Int64
        switch query.interval {
        case .minute, .hour:
            let size = query.interval == .minute ? RollupLevel.minuteMs : RollupLevel.hourMs
            current = align(query.from, size)
            next = { start in
                let candidate = align(start + size, size)
                return candidate > start ? candidate : start + size
            }
        case .day, .month:
            let component: Calendar.Component = query.interval == .day ? .day : .month
            guard let first = calendar.dateInterval(of: component, for: date(query.from)) else {
                throw UsageQueryError.unsupportedTimeZone(zone.identifier)
            }
            current = ms(first.start)
            next = { start in
                guard let d = calendar.date(byAdding: component, value: 1, to: date(start)) else { return start + 1 }
                return ms(calendar.dateInterval(of: component, for: d)?.start ?? d)
            }
        }
        boundaries.append(current)
        while current < query.to {
            current = next(current)
            boundaries.append(current)
            if boundaries.count - 1 > limit {
                throw UsageQueryError.tooManyBuckets(count: boundaries.count, limit: limit)
            }
        }
        for b in boundaries where UTCCalendar.floor(b, RollupLevel.minuteMs) != b {
            throw UsageQueryError.unsupportedTimeZone(zone.identifier)
        }
        return boundaries
    }

    /// Runs of one level grouped so that each group's chunk range is read once and no two groups share a chunk.
    static func clusters(_ runs: [(start: Int64, end: Int64)], level: RollupLevel)
        -> [(runs: [(start: Int64, end: Int64)], chunks: Range<Int64>)]
    {
        var result: [(runs: [(start: Int64, end: Int64)], chunks: Range<Int64>)] = []
        for run in runs {
            let first = level.chunkStart(run.start)
            let end = level.nextChunk(level.chunkStart(run.end - 1))
            if let last = result.last, first < last.chunks.upperBound {
                result[result.count - 1].runs.append(run)
                result[result.count - 1].chunks = last.chunks.lowerBound..<max(end, last.chunks.upperBound)
            } else {
                result.append(([run], first..<end))
            }
        }
        return result
    }
}

/// One usage query's reading state: the account's series, the accumulators per (bucket, group).
/// One usage query's reading state: the account's series, and per (bucket, group) what was added to it.
struct UsageReader {
    let query: UsageQuery
    let boundaries: [Int64]
    let columns: [RollupColumn]
    /// Where chunks already added up are kept between queries (nil: none kept).
    let cache: ChunkSumsCache?

    var groups: [UsageGroup] = []
    var groupIndex: [UsageGroup: Int] = [:]
    /// Per series id: its group, and the flags of its key (`Flags`) for errors, cached, unpriced and refused.
    var seriesGroup: [Int64: (group: Int, flags: UInt8)] = [:]
    /// Per output bucket: where its groups' slots start in `groupSlots`, or -1 before any cell of it was read.
    var bucketSlots: [Int32] = []
    /// Per (bucket, group), by blocks of `groups.count`: the index of its slot, or -1.
    var groupSlots: [Int32] = []
    var slotKeys: [(bucket: Int, group: Int)] = []
    var slots: [UsageSlot] = []
    var chunksRead: [RollupLevel: Int] = [:]
    /// Whether the group totals are added up from the rows (not read apart): then `partUses` notes where every
    /// entry went.
    var addsUpGroups = false
    /// With `addsUpGroups`: every part added, with its groups in this query's numbering and the slot each of its
    /// entries was added to (-1: none).
    var partUses: [(part: PartSums, groupMap: [Int], entrySlot: [Int32])] = []

    /// What a series' key says of its requests: each set bit adds them to one more count.
    enum Flags {
        static let error: UInt8 = 1
        static let cached: UInt8 = 2
        static let unpriced: UInt8 = 4
        static let rateLimited: UInt8 = 8
        static let spendLimited: UInt8 = 16
    }

    init(query: UsageQuery, boundaries: [Int64], columns: [RollupColumn], cache: ChunkSumsCache?) {
        self.query = query
        self.boundaries = boundaries
        self.columns = columns
        self.cache = cache
    }

    mutating func loadSeries(_ series: [RollupSeriesRecord]) {
        for series in series {
            let key = RollupSeriesKey(series)
            let group = UsageGroup(key, fields: query.groupBy)
            let index: Int
            if let existing = groupIndex[group] {
                index = existing
            } else {
                index = groups.count
                groups.append(group)
                groupIndex[group] = index
            }
            let flags =
                (key.success ? 0 : Flags.error) | (key.cached ? Flags.cached : 0) | (key.priced ? 0 : Flags.unpriced)
                | (key.refusal == GatewayRefusal.rateLimited.rawValue ? Flags.rateLimited : 0)
                | (key.refusal == GatewayRefusal.spendLimitExceeded.rawValue ? Flags.spendLimited : 0)
            seriesGroup[series.id] = (index, flags)
        }
        bucketSlots = [Int32](repeating: -1, count: boundaries.count - 1)
        // Room for a slot per bucket and group (up to a bound): a slot is a few hundred bytes, and growing the array
        // copies them all.
        let expected = min((boundaries.count - 1) * max(groups.count, 1), 1 << 14)
        slots.reserveCapacity(expected)
        slotKeys.reserveCapacity(expected)
    }

    private func bucketIndex(of t: Int64) -> Int {
        var low = 0
        var high = boundaries.count - 1
        while high - low > 1 {
            let mid = (low + high) >> 1
            if boundaries[mid] <= t { low = mid } else { high = mid }
        }
        return low
    }

    /// The slot of `group` in output bucket `bucket`, made on first use.
    @inline(__always)
    private mutating func slot(bucket: Int, group: Int) -> Int {
        var start = Int(bucketSlots[bucket])
        if start < 0 {
            start = groupSlots.count
            bucketSlots[bucket] = Int32(start)
            groupSlots.append(contentsOf: repeatElement(-1, count: groups.count))
        }
        let existing = groupSlots[start + group]
        if existing >= 0 { return Int(existing) }
        let slot = slots.count
        groupSlots[start + group] = Int32(slot)
        slotKeys.append((bucket, group))
        slots.append(UsageSlot())
        return slot
    }

    /// The fields grouped by, as bits (part of a `ChunkSumsCache.Key`).
    private var groupingBits: Int {
        UsageGroupField.allCases.enumerated().reduce(0) {
            query.groupBy.contains($1.element) ? $0 | 1 << $1.offset : $0
        }
    }

    /// The columns read, as bits (part of a `ChunkSumsCache.Key`).
    private var columnBits: Int {
        RollupColumn.allCases.enumerated().reduce(0) { columns.contains($1.element) ? $0 | 1 << $1.offset : $0 }
    }

    /// Adds the cells of the chunks in `chunks` whose bucket lies in one of `runs`: each chunk added up by bucket
    /// and group (`ChunkSums`), kept between queries while the chunk does not change, or read and added up now.
    mutating func read(
        level: RollupLevel, runs: [(start: Int64, end: Int64)], chunks: Range<Int64>, snapshot: RollupSnapshot
    ) throws {
        let grouping = groupingBits
        let columnSet = columnBits
        let blockBuckets = blocks(level: level, runs: runs, chunks: chunks)
        func key(_ start: Int64) -> ChunkSumsCache.Key {
            ChunkSumsCache.Key(
                level: level, account: query.account, chunkStart: start, grouping: grouping, columns: columnSet,
                blocks: blockBuckets > 0)
        }
        var found: [ChunkSums] = []
        var missing: [(start: Int64, version: UInt64?)] = []
        var start = chunks.lowerBound
        while start < chunks.upperBound {
            let version = snapshot.settledVersion(
                of: RollupChunkKey(level: level.name, account: query.account, chunkStart: start))
            if let cache, let version, let sums = cache.sums(key(start), version: version) {
                found.append(sums)
            } else {
                missing.append((start, version))
            }
            start = level.nextChunk(start)
        }
        if let first = missing.first, let last = missing.last {
            let range = first.start..<level.nextChunk(last.start)
            // Per chunk start, per part: the blobs of every column read.
            var parts: [Int64: [Int64: [RollupColumn: [UInt8]]]] = [:]
            for column in [RollupColumn.bucket, .series] + columns {
                for row in try snapshot.chunkColumn(
                    level: level.name, account: query.account, measure: column.rawValue, chunks: range)
                {
                    parts[row.chunkStart, default: [:]][row.part, default: [:]][column] = row.data
                }
            }
            for chunk in missing {
                let chunkParts = parts[chunk.start] ?? [:]
                let decoded = try chunkParts.keys.sorted().map { part in
                    (
                        part,
                        try PartSums.decode(
                            columns: chunkParts[part]!, read: columns, groups: groups, seriesGroup: seriesGroup)
                    )
                }
                let sums = ChunkSums(
                    chunkStart: chunk.start,
                    parts: PartSums.parts(
                        decoded, read: columns, groups: groups, bucketsPerChunk: blockBuckets))
                if let cache, let version = chunk.version { cache.keep(key(chunk.start), version: version, sums) }
                found.append(sums)
            }
        }
        for chunk in found { try add(chunk, level: level, runs: runs) }
    }

    /// The buckets of a chunk whose parts keep block sums (`PartSums.blocks`): minute and hour chunks, whose
    /// buckets the first and last day of a rolling window add up by the tens; 0 for the others (a row of day buckets
    /// is a day).
    static func blockBuckets(_ level: RollupLevel) -> Int {
        switch level {
        case .minute: 60
        case .hour: 24
        case .day, .month: 0
        }
    }

    /// The buckets per chunk of the block sums to keep when adding up the chunks `chunks` of `level` for `runs`
    /// (`blockBuckets`), or 0 for none. Block sums pay when rows hold runs of the level's buckets and the chunks stay
    /// kept between queries: a rolling window's edges, one or two minute and hour chunks. Not for rows of single
    /// buckets (hourly rows of hour buckets), nor for a long range of them (a New York month reads 31 hour chunks,
    /// more than the kept sums hold: each query would make their block sums again and use them once).
    func blocks(level: RollupLevel, runs: [(start: Int64, end: Int64)], chunks: Range<Int64>) -> Int {
        let buckets = Self.blockBuckets(level)
        let chunkMs = level.nextChunk(chunks.lowerBound) - chunks.lowerBound
        let bucketMs = level.nextBucket(chunks.lowerBound) - chunks.lowerBound
        let rowsCoarser =
            switch query.interval {
            case .minute: false
            case .hour: level == .minute
            case .day, .month: true
            }
        guard buckets > 0, rowsCoarser, chunks.upperBound - chunks.lowerBound <= 2 * chunkMs,
            runs.contains(where: { $0.end - $0.start >= 2 * bucketMs })
        else { return 0 }
        return buckets
    }

    /// Adds the entries of `chunk` whose bucket lies in one of `runs` to their slots.
    private mutating func add(_ chunk: ChunkSums, level: RollupLevel, runs: [(start: Int64, end: Int64)]) throws {
        chunksRead[level, default: 0] += chunk.parts.count
        // With block sums: each row's run of the chunk's buckets, as bucket numbers `first..<end`.
        var segments: [(row: Int, first: Int, end: Int)] = []
        if chunk.parts.contains(where: { !$0.blocks.isEmpty }) {
            let size = level.nextBucket(chunk.chunkStart) - chunk.chunkStart
            let chunkEnd = level.nextChunk(chunk.chunkStart)
            for run in runs where run.end > chunk.chunkStart && run.start < chunkEnd {
                var t = max(run.start, chunk.chunkStart)
                let end = min(run.end, chunkEnd)
                while t < end {
                    let row = bucketIndex(of: t)
                    let rowEnd = min(boundaries[row + 1], end)
                    segments.append(
                        (row, Int((t - chunk.chunkStart) / size), Int((rowEnd - chunk.chunkStart) / size)))
                    t = rowEnd
                }
            }
        }
        for part in chunk.parts {
            // The part's groups in this query's numbering (the same unless it was added up by another query).
            var groupMap = [Int](repeating: -1, count: part.groups.count)
            if part.groups.count <= groups.count, part.groups.elementsEqual(groups[..<part.groups.count]) {
                for g in groupMap.indices { groupMap[g] = g }
            }
            if !part.blocks.isEmpty {
                // Each row's buckets of each group as a few entries and block sums (at most two per tree level).
                var entrySlot = [Int32](repeating: -1, count: addsUpGroups ? part.count : 0)
                let entries = part.count
                var unknownGroup = false
                for segment in segments {
                    for local in 0..<part.groups.count {
                        part.forEachNode(group: local, first: segment.first, end: segment.end) { node in
                            var group = groupMap[local]
                            if group < 0 {
                                guard let known = groupIndex[part.groups[local]] else {
                                    unknownGroup = true
                                    return
                                }
                                group = known
                                groupMap[local] = known
                            }
                            let target = slot(bucket: segment.row, group: group)
                            slots[target].add(part, node)
                            // An entry of its own: the group totals may take it from its part's total.
                            if addsUpGroups, node < entries { entrySlot[node] = Int32(target) }
                        }
                    }
                }
                if unknownGroup { throw RollupError.corruptChunk("group of unknown series") }
                if addsUpGroups { partUses.append((part, groupMap, entrySlot)) }
                continue
            }
            var lastOffset: Int32 = -1
            var lastBucket = -1
            var entrySlot = [Int32](repeating: -1, count: addsUpGroups ? part.count : 0)
            // The part's arrays once, not per entry.
            let (offsets, groupOf) = (part.offsets, part.group)
            for entry in 0..<part.count {
                let offset = offsets[entry]
                if offset != lastOffset {
                    lastOffset = offset
                    let t = level.bucketStart(chunkStart: chunk.chunkStart, offset: Int(offset))
                    lastBucket = Self.inRuns(t, runs) ? bucketIndex(of: t) : -1
                }
                guard lastBucket >= 0 else { continue }
                let local = Int(groupOf[entry])
                var group = groupMap[local]
                if group < 0 {
                    guard let known = groupIndex[part.groups[local]] else {
                        throw RollupError.corruptChunk("group of unknown series")
                    }
                    group = known
                    groupMap[local] = known
                }
                let target = slot(bucket: lastBucket, group: group)
                slots[target].add(part, entry)
                if addsUpGroups { entrySlot[entry] = Int32(target) }
            }
            if addsUpGroups { partUses.append((part, groupMap, entrySlot)) }
        }
    }

    static func inRuns(_ t: Int64, _ runs: [(start: Int64, end: Int64)]) -> Bool {
        var low = 0
        var high = runs.count
        while low < high {
            let mid = (low + high) >> 1
            if runs[mid].end <= t { low = mid + 1 } else { high = mid }
        }
        return low < runs.count && runs[low].start <= t
    }

    /// Each group's sum of its rows, from `partUses`. A row made of one entry of a part is added as that entry;
    /// but when most of a group's entries in a part are such rows (the days of a month chunk in a 30-day window),
    /// they are added at once as the group's total over the part less its other entries: exact, counts are
    /// integers, and a two-window add instead of one per row.
    private func groupSums() -> [UsageSlot] {
        var perGroup = [UsageSlot](repeating: UsageSlot(), count: groups.count)
        // Rows added with their part's group total.
        var covered = [Bool](repeating: false, count: slots.count)
        for use in partUses {
            let part = use.part
            var alone = [Int32](repeating: 0, count: part.groups.count)
            for entry in 0..<part.count {
                let slot = Int(use.entrySlot[entry])
                if slot >= 0, slots[slot].isSingle { alone[Int(part.group[entry])] += 1 }
            }
            var whole = [Bool](repeating: false, count: part.groups.count)
            var any = false
            for local in part.groups.indices where part.groupEntries[local] >= PartSums.entriesForTotal {
                guard alone[local] * 2 > part.groupEntries[local] else { continue }
                whole[local] = true
                any = true
                perGroup[use.groupMap[local]].add(part.groupTotals[local])
            }
            guard any else { continue }
            for entry in 0..<part.count where whole[Int(part.group[entry])] {
                let slot = Int(use.entrySlot[entry])
                if slot >= 0, slots[slot].isSingle {
                    covered[slot] = true
                } else {
                    perGroup[use.groupMap[Int(part.group[entry])]].subtract(part, entry)
                }
            }
        }
        for slot in slots.indices where !covered[slot] && slots[slot].requests != 0 {
            perGroup[slotKeys[slot].group].add(slots[slot])
        }
        return perGroup
    }

    /// The rows, with the group totals taken from `totals` (the same query read as one bucket) when given, else
    /// added up from the rows.
    func result(totals: UsageReader?) -> UsageResult {
        let wantLatency = query.measures.contains(.latency)
        let wantTTFT = query.measures.contains(.ttft)
        let ranked = groups.indices.sorted { groups[$0] < groups[$1] }
        var groupRank = [Int](repeating: 0, count: groups.count)
        for (rank, group) in ranked.enumerated() { groupRank[group] = rank }
        // Bucket, then group order: one integer key per slot (bucket, group rank, slot), sorted as integers when
        // they fit in 20, 20 and 24 bits.
        let order: [Int]
        if boundaries.count <= 1 << 20, groups.count <= 1 << 20, slots.count <= 1 << 24 {
            var keys: [UInt64] = []
            keys.reserveCapacity(slots.count)
            for slot in slots.indices where slots[slot].requests != 0 {
                let (bucket, group) = slotKeys[slot]
                keys.append(UInt64(bucket) << 44 | UInt64(groupRank[group]) << 24 | UInt64(slot))
            }
            keys.sort()
            order = keys.map { Int($0 & 0xFF_FFFF) }
        } else {
            order = slots.indices.filter { slots[$0].requests != 0 }.sorted {
                let a = slotKeys[$0]
                let b = slotKeys[$1]
                return a.bucket != b.bucket ? a.bucket < b.bucket : groupRank[a.group] < groupRank[b.group]
            }
        }
        var rows: [UsageRow] = []
        rows.reserveCapacity(order.count)
        for slot in order {
            let (bucket, group) = slotKeys[slot]
            rows.append(
                UsageRow(
                    bucketStart: boundaries[bucket], group: groups[group],
                    values: slots[slot].finish(latency: wantLatency, ttft: wantTTFT)))
        }
        var groupSlots: [(group: UsageGroup, slot: UsageSlot)] = []
        var chunksRead = self.chunksRead
        if let totals {
            for slot in totals.slots.indices where totals.slots[slot].requests != 0 {
                groupSlots.append((totals.groups[totals.slotKeys[slot].group], totals.slots[slot]))
            }
            chunksRead.merge(totals.chunksRead, uniquingKeysWith: +)
            groupSlots.sort { $0.group < $1.group }
        } else {
            // Each group's total is the sum of its rows, already in group order.
            let perGroup = groupSums()
            for group in ranked where perGroup[group].requests != 0 {
                groupSlots.append((groups[group], perGroup[group]))
            }
        }
        var total = UsageSlot()
        for entry in groupSlots { total.add(entry.slot) }
        let groupTotals = groupSlots.map {
            UsageRow(
                bucketStart: boundaries[0], group: $0.group,
                values: $0.slot.finish(latency: wantLatency, ttft: wantTTFT))
        }
        return UsageResult(
            rows: rows, groupTotals: groupTotals, totals: total.finish(latency: wantLatency, ttft: wantTTFT),
            chunksRead: chunksRead)
    }
}

/// What was added to one (bucket, group): nothing, one entry of a `PartSums` as it is (its percentiles already
/// computed), or the running sums of several.
struct UsageSlot {
    private var part: PartSums?
    private var entry = 0
    private var sums: UsageAccumulator?

    init() {}

    /// Running sums as they are.
    init(sums: UsageAccumulator) {
        self.sums = sums
    }

    var isEmpty: Bool { part == nil && sums == nil }

    /// Holds one entry as it is.
    var isSingle: Bool { part != nil }

    /// Adds running sums (a part's group total).
    mutating func add(_ other: UsageAccumulator) {
        add(UsageSlot(sums: other))
    }

    /// Takes away entry `entry` of `part`, added before with a part's group total that held it.
    mutating func subtract(_ part: PartSums, _ entry: Int) {
        if sums == nil {
            var merged = UsageAccumulator(dense: true)
            if let single = self.part { merged.add(single, self.entry) }
            sums = merged
            self.part = nil
        }
        sums!.subtract(part, entry)
    }

    var requests: Int64 { sums?.values.requests ?? part.map { $0.values[entry].requests } ?? 0 }

    /// Adds entry `entry` of `part`.
    mutating func add(_ part: PartSums, _ entry: Int) {
        if sums != nil {
            sums!.add(part, entry)
        } else if let single = self.part {
            var merged = UsageAccumulator(single, self.entry)
            merged.add(part, entry)
            sums = merged
            self.part = nil
        } else {
            self.part = part
            self.entry = entry
        }
    }

    /// Adds what `other` holds.
    mutating func add(_ other: UsageSlot) {
        if let otherSums = other.sums {
            if sums == nil {
                if let single = part {
                    var merged = UsageAccumulator(single, entry)
                    merged.merge(otherSums)
                    sums = merged
                    part = nil
                } else {
                    // Added to empty dense sums rather than copied: more will be added.
                    var merged = UsageAccumulator(dense: true)
                    merged.merge(otherSums)
                    sums = merged
                }
            } else {
                sums!.merge(otherSums)
            }
        } else if let otherPart = other.part {
            add(otherPart, other.entry)
        }
    }

    /// The values, with the percentiles asked for.
    func finish(latency: Bool, ttft: Bool) -> UsageValues {
        if let sums {
            var values = sums.values
            if latency { values.latency = sums.latency.percentiles }
            if ttft { values.ttft = sums.ttft.percentiles }
            return values
        }
        if let part {
            var values = part.values[entry]
            // Computed when kept unless another part shares the entry's bucket (then a row never holds it alone).
            if latency, values.latency == nil, !part.latency.isEmpty {
                values.latency = part.latency[entry].percentiles
            }
            if ttft, values.ttft == nil, !part.ttft.isEmpty { values.ttft = part.ttft[entry].percentiles }
            return values
        }
        return UsageValues()
    }
}

/// The running sums of one (bucket, group).
struct UsageAccumulator {
    var values = UsageValues()
    var latency = SketchAccumulator()
    var ttft = SketchAccumulator()

    init() {}

    /// Empty sums whose sketches are dense from the start (`SketchAccumulator.alwaysDense`): many will be added.
    init(dense: Bool) {
        latency = SketchAccumulator(dense: dense)
        ttft = SketchAccumulator(dense: dense)
    }

    /// Entry `entry` of `part`, as running sums (dense sketches: more will be added).
    init(_ part: PartSums, _ entry: Int) {
        self.init(dense: true)
        // Added to empty sums rather than copied: the sums get a window with room for what is added next.
        add(part, entry)
    }

    @inline(__always)
    mutating func add(_ column: RollupColumn, _ value: Int64) {
        switch column {
        case .requests: values.requests += value
        case .tokensIn: values.tokensIn += value
        case .tokensOut: values.tokensOut += value
        case .cachedTokensIn: values.cachedTokensIn += value
        case .cacheWriteTokens: values.cacheWriteTokens += value
        case .reasoningTokens: values.reasoningTokens += value
        default: break
        }
    }

    /// Adds entry `entry` of `part`.
    mutating func add(_ part: PartSums, _ entry: Int) {
        add(part.values[entry])
        // Through the buffers: the entry's sketches are read in place, not copied.
        part.latency.withUnsafeBufferPointer { if !$0.isEmpty { latency.add($0[entry]) } }
        part.ttft.withUnsafeBufferPointer { if !$0.isEmpty { ttft.add($0[entry]) } }
    }

    mutating func merge(_ other: UsageAccumulator) {
        add(other.values)
        latency.add(other.latency)
        ttft.add(other.ttft)
    }

    /// Takes away entry `entry` of `part`, added before with a sum that held it (a `PartSums.groupTotals`).
    mutating func subtract(_ part: PartSums, _ entry: Int) {
        add(part.values[entry], sign: -1)
        part.latency.withUnsafeBufferPointer { if !$0.isEmpty { latency.subtract($0[entry]) } }
        part.ttft.withUnsafeBufferPointer { if !$0.isEmpty { ttft.subtract($0[entry]) } }
    }

    /// Adds (or with `sign` -1 takes away) the counts, tokens and costs of `other` (not its percentiles).
    private mutating func add(_ other: UsageValues, sign: Int64 = 1) {
        values.requests += sign * other.requests
        values.errors += sign * other.errors
        values.cached += sign * other.cached
        values.unpriced += sign * other.unpriced
        values.rateLimited += sign * other.rateLimited
        values.spendLimited += sign * other.spendLimited
        values.tokensIn += sign * other.tokensIn
        values.tokensOut += sign * other.tokensOut
        values.cachedTokensIn += sign * other.cachedTokensIn
        values.cacheWriteTokens += sign * other.cacheWriteTokens
        values.reasoningTokens += sign * other.reasoningTokens
        values.cost.picodollars += Int128(sign) * other.cost.picodollars
        values.saved.picodollars += Int128(sign) * other.saved.picodollars
    }
}
