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
    /// - Throws: `UsageQueryError` for a bad range (the API's 400), `RollupError` or `SQLiteError` for storage.
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
        var rows = UsageReader(query: query, boundaries: boundaries, columns: columns)
        var whole = UsageReader(query: query, boundaries: [query.from, query.to], columns: columns)
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
struct UsageReader {
    let query: UsageQuery
    let boundaries: [Int64]
    let columns: [RollupColumn]

    var groups: [UsageGroup] = []
    var groupIndex: [UsageGroup: Int] = [:]
    /// Per series id: its group, and the flags of its key (`Flags`) for errors, cached, unpriced and refused.
    var seriesGroup: [Int64: (group: Int, flags: UInt8)] = [:]
    /// Per output bucket: where its groups' slots start in `groupSlots`, or -1 before any cell of it was read.
    var bucketSlots: [Int32] = []
    /// Per (bucket, group), by blocks of `groups.count`: the index of its accumulator, or -1.
    var groupSlots: [Int32] = []
    var slotKeys: [(bucket: Int, group: Int)] = []
    var accumulators: [UsageAccumulator] = []
    var chunksRead: [RollupLevel: Int] = [:]

    /// What a series' key says of its requests: each set bit adds them to one more count.
    enum Flags {
        static let error: UInt8 = 1
        static let cached: UInt8 = 2
        static let unpriced: UInt8 = 4
        static let rateLimited: UInt8 = 8
        static let spendLimited: UInt8 = 16
    }

    init(query: UsageQuery, boundaries: [Int64], columns: [RollupColumn]) {
        self.query = query
        self.boundaries = boundaries
        self.columns = columns
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

    /// The accumulator of `group` in output bucket `bucket`, made on first use.
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
        let slot = accumulators.count
        groupSlots[start + group] = Int32(slot)
        slotKeys.append((bucket, group))
        accumulators.append(UsageAccumulator())
        return slot
    }

    /// Adds the cells of the chunks in `chunks` whose bucket lies in one of `runs`.
    mutating func read(
        level: RollupLevel, runs: [(start: Int64, end: Int64)], chunks: Range<Int64>, snapshot: RollupSnapshot
    ) throws {
        func rows(_ column: RollupColumn) throws -> [RollupChunkPart] {
            try snapshot.chunkColumn(
                level: level.name, account: query.account, measure: column.rawValue, chunks: chunks)
        }
        struct PartKey: Hashable {
            var start: Int64
            var part: Int64
        }
        let bucketRows = try rows(.bucket)
        guard !bucketRows.isEmpty else { return }
        chunksRead[level, default: 0] += bucketRows.count
        var seriesBlobs: [PartKey: [UInt8]] = [:]
        for row in try rows(.series) { seriesBlobs[PartKey(start: row.chunkStart, part: row.part)] = row.data }

        // Per part: the accumulator of every cell, or -1 for cells outside the runs.
        var targets: [PartKey: [Int]] = [:]
        var flags: [PartKey: [UInt8]] = [:]
        for row in bucketRows {
            let key = PartKey(start: row.chunkStart, part: row.part)
            guard let seriesBlob = seriesBlobs[key] else { throw RollupError.corruptChunk("part without series") }
            var header = ByteReader(row.data)
            let n = try ChunkCodec.header(&header, expected: nil)
            let offsets = try ChunkCodec.integers(row.data, count: n, signed: false)
            let series = try ChunkCodec.integers(seriesBlob, count: n, signed: false)
            var cellTargets = [Int](repeating: -1, count: n)
            var cellFlags = [UInt8](repeating: 0, count: n)
            var lastOffset = -1
            var lastBucket = -1
            for i in 0..<n {
                let offset = Int(offsets[i])
                if offset != lastOffset {
                    lastOffset = offset
                    let t = level.bucketStart(chunkStart: row.chunkStart, offset: offset)
                    lastBucket = Self.inRuns(t, runs) ? bucketIndex(of: t) : -1
                }
                guard lastBucket >= 0 else { continue }
                guard let (group, seriesFlags) = seriesGroup[series[i]] else {
                    throw RollupError.corruptChunk("unknown series \(series[i])")
                }
                cellFlags[i] = seriesFlags
                cellTargets[i] = slot(bucket: lastBucket, group: group)
            }
            targets[key] = cellTargets
            flags[key] = cellFlags
        }

        for column in columns {
            for row in try rows(column) {
                let key = PartKey(start: row.chunkStart, part: row.part)
                guard let cellTargets = targets[key], let cellFlags = flags[key] else { continue }
                var reader = ByteReader(row.data)
                _ = try ChunkCodec.header(&reader, expected: cellTargets.count)
                // One loop per kind of column: the switch stays out of the per-cell work.
                switch column {
                case .latency, .ttft:
                    let latency = column == .latency
                    var index = 0
                    while index < cellTargets.count {
                        let slot = cellTargets[index]
                        if slot < 0 {
                            // A run of cells outside the window (the minutes before a rolling window's start):
                            // skipped in one pass over their bytes.
                            var skip = 1
                            while index + skip < cellTargets.count, cellTargets[index + skip] < 0 { skip += 1 }
                            try QuantileSketch.skip(&reader, count: skip)
                            index += skip
                            continue
                        }
                        if latency {
                            try accumulators[slot].latency.add(from: &reader)
                        } else {
                            try accumulators[slot].ttft.add(from: &reader)
                        }
                        index += 1
                    }
                case .cost, .saved:
                    let cost = column == .cost
                    for slot in cellTargets {
                        let value = try reader.signed128()
                        guard slot >= 0 else { continue }
                        if cost {
                            accumulators[slot].values.cost.picodollars += value
                        } else {
                            accumulators[slot].values.saved.picodollars += value
                        }
                    }
                case .requests:
                    for (index, slot) in cellTargets.enumerated() {
                        let value = try reader.signed()
                        guard slot >= 0 else { continue }
                        accumulators[slot].values.requests += value
                        // Errors, cached and unpriced requests are the requests of series that say so.
                        let flags = cellFlags[index]
                        guard flags != 0 else { continue }
                        if flags & Flags.error != 0 { accumulators[slot].values.errors += value }
                        if flags & Flags.cached != 0 { accumulators[slot].values.cached += value }
                        if flags & Flags.unpriced != 0 { accumulators[slot].values.unpriced += value }
                        if flags & Flags.rateLimited != 0 { accumulators[slot].values.rateLimited += value }
                        if flags & Flags.spendLimited != 0 { accumulators[slot].values.spendLimited += value }
                    }
                default:
                    for slot in cellTargets {
                        let value = try reader.signed()
                        if slot >= 0 { accumulators[slot].add(column, value) }
                    }
                }
            }
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

    /// The rows, with the group totals taken from `totals` (the same query read as one bucket) when given, else
    /// added up from the rows.
    func result(totals: UsageReader?) -> UsageResult {
        let sketches = query.measures.contains(.latency) || query.measures.contains(.ttft)
        let wantLatency = query.measures.contains(.latency)
        let wantTTFT = query.measures.contains(.ttft)
        func finish(_ accumulator: UsageAccumulator) -> UsageValues {
            var values = accumulator.values
            if wantLatency { values.latency = accumulator.latency.percentiles }
            if wantTTFT { values.ttft = accumulator.ttft.percentiles }
            return values
        }
        var groupRank = [Int](repeating: 0, count: groups.count)
        for (rank, group) in groups.indices.sorted(by: { groups[$0] < groups[$1] }).enumerated() {
            groupRank[group] = rank
        }
        let order = accumulators.indices.filter { accumulators[$0].values.requests != 0 }.sorted {
            let a = slotKeys[$0]
            let b = slotKeys[$1]
            return a.bucket != b.bucket ? a.bucket < b.bucket : groupRank[a.group] < groupRank[b.group]
        }
        var rows: [UsageRow] = []
        rows.reserveCapacity(order.count)
        // Without separate totals, each group's total is the sum of its rows (dense sketch windows added
        // element-wise), by group index.
        var perGroup = [UsageAccumulator?](repeating: nil, count: groups.count)
        for slot in order {
            let (bucket, group) = slotKeys[slot]
            rows.append(
                UsageRow(bucketStart: boundaries[bucket], group: groups[group], values: finish(accumulators[slot])))
            if totals == nil {
                if perGroup[group] == nil {
                    perGroup[group] = accumulators[slot]
                } else {
                    perGroup[group]!.merge(accumulators[slot], sketches: sketches)
                }
            }
        }
        var groupAccumulators: [(group: UsageGroup, accumulator: UsageAccumulator)] = []
        var chunksRead = self.chunksRead
        if let totals {
            for slot in totals.accumulators.indices where totals.accumulators[slot].values.requests != 0 {
                groupAccumulators.append((totals.groups[totals.slotKeys[slot].group], totals.accumulators[slot]))
            }
            chunksRead.merge(totals.chunksRead, uniquingKeysWith: +)
        } else {
            for group in groups.indices { if let a = perGroup[group] { groupAccumulators.append((groups[group], a)) } }
        }
        var total = UsageAccumulator()
        for entry in groupAccumulators { total.merge(entry.accumulator, sketches: sketches) }
        let groupTotals = groupAccumulators.sorted { $0.group < $1.group }.map {
            UsageRow(bucketStart: boundaries[0], group: $0.group, values: finish($0.accumulator))
        }
        return UsageResult(rows: rows, groupTotals: groupTotals, totals: finish(total), chunksRead: chunksRead)
    }
}

/// The running sums of one (bucket, group).
struct UsageAccumulator {
    var values = UsageValues()
    var latency = SketchAccumulator()
    var ttft = SketchAccumulator()

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

    mutating func merge(_ other: UsageAccumulator, sketches: Bool) {
        values.requests += other.values.requests
        values.errors += other.values.errors
        values.cached += other.values.cached
        values.unpriced += other.values.unpriced
        values.rateLimited += other.values.rateLimited
        values.spendLimited += other.values.spendLimited
        values.tokensIn += other.values.tokensIn
        values.tokensOut += other.values.tokensOut
        values.cachedTokensIn += other.values.cachedTokensIn
        values.cacheWriteTokens += other.values.cacheWriteTokens
        values.reasoningTokens += other.values.reasoningTokens
        values.cost += other.values.cost
        values.saved += other.values.saved
        if sketches {
            latency.add(other.latency)
            ttft.add(other.ttft)
        }
    }
}
