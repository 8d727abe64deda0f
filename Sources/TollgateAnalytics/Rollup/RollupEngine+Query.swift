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

        // The rows, then the totals of each group over the whole range as one more bucket: covered by the coarsest
        // levels on their own, that is cheaper than adding up the rows' sketches. Both are exact sums of the same
        // inputs, so the rows add up to the totals exactly (percentiles come from identical bucket counts).
        var rows = UsageReader(query: query, boundaries: boundaries, columns: columns)
        var whole = UsageReader(query: query, boundaries: [query.from, query.to], columns: columns)
        let separateTotals = boundaries.count > 2
        try store.read { snapshot in
            // One snapshot for every statement: a checkpoint may add parts or compact a chunk between two reads.
            try rows.loadSeries(snapshot)
            try Self.collect(into: &rows, snapshot: snapshot)
            if separateTotals {
                try whole.loadSeries(snapshot)
                try Self.collect(into: &whole, snapshot: snapshot)
            }
        }
        return rows.result(totals: separateTotals ? whole : nil)
    }

    /// Reads what the buckets of `reader` need: each output bucket (clipped to the query's range) is covered by the
    /// coarsest stored buckets, adjacent stored buckets of a level joined into runs, runs read chunk range by chunk
    /// range.
    static func collect(into reader: inout UsageReader, snapshot: RollupSnapshot) throws {
        let boundaries = reader.boundaries
        let query = reader.query
        var runs: [[(start: Int64, end: Int64)]] = [[], [], [], []]
        for i in 0..<(boundaries.count - 1) {
            var t = max(boundaries[i], query.from)
            let end = min(boundaries[i + 1], query.to)
            while t < end {
                for level in RollupLevel.allCases.reversed() where level.bucketStart(t) == t {
                    let next = level.nextBucket(t)
                    guard next <= end else { continue }
                    if let last = runs[level.rawValue].last, last.end == t {
                        runs[level.rawValue][runs[level.rawValue].count - 1].end = next
                    } else {
                        runs[level.rawValue].append((t, next))
                    }
                    t = next
                    break
                }
            }
        }
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
    /// Per series id: its group and its key (for errors, cached, unpriced, refused).
    var seriesGroup: [Int64: (group: Int, key: RollupSeriesKey)] = [:]
    var slots: [Int: Int] = [:]
    var slotKeys: [(bucket: Int, group: Int)] = []
    var accumulators: [UsageAccumulator] = []
    var chunksRead: [RollupLevel: Int] = [:]

    init(query: UsageQuery, boundaries: [Int64], columns: [RollupColumn]) {
        self.query = query
        self.boundaries = boundaries
        self.columns = columns
    }

    mutating func loadSeries(_ snapshot: RollupSnapshot) throws {
        for series in try snapshot.series(account: query.account) {
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
            seriesGroup[series.id] = (index, key)
        }
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
                guard let (group, seriesKey) = seriesGroup[series[i]] else {
                    throw RollupError.corruptChunk("unknown series \(series[i])")
                }
                let slotKey = lastBucket * groups.count + group
                let slot: Int
                if let existing = slots[slotKey] {
                    slot = existing
                } else {
                    slot = accumulators.count
                    slots[slotKey] = slot
                    slotKeys.append((lastBucket, group))
                    accumulators.append(UsageAccumulator())
                }
                cellFlags[i] =
                    (seriesKey.success ? 0 : 1) | (seriesKey.cached ? 2 : 0) | (seriesKey.priced ? 0 : 4)
                    | (seriesKey.refusal == GatewayRefusal.rateLimited.rawValue ? 8 : 0)
                    | (seriesKey.refusal == GatewayRefusal.spendLimitExceeded.rawValue ? 16 : 0)
                cellTargets[i] = slot
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
                for (index, slot) in cellTargets.enumerated() {
                    switch column {
                    case .latency, .ttft:
                        if slot < 0 {
                            try QuantileSketch.skip(&reader)
                        } else if column == .latency {
                            try accumulators[slot].latency.add(from: &reader)
                        } else {
                            try accumulators[slot].ttft.add(from: &reader)
                        }
                    case .cost:
                        let value = try reader.signed128()
                        if slot >= 0 { accumulators[slot].values.cost.picodollars += value }
                    case .saved:
                        let value = try reader.signed128()
                        if slot >= 0 { accumulators[slot].values.saved.picodollars += value }
                    case .requests:
                        let value = try reader.signed()
                        if slot >= 0 {
                            accumulators[slot].values.requests += value
                            // Errors, cached and unpriced requests are the requests of series that say so.
                            let flags = cellFlags[index]
                            if flags & 1 != 0 { accumulators[slot].values.errors += value }
                            if flags & 2 != 0 { accumulators[slot].values.cached += value }
                            if flags & 4 != 0 { accumulators[slot].values.unpriced += value }
                            if flags & 8 != 0 { accumulators[slot].values.rateLimited += value }
                            if flags & 16 != 0 { accumulators[slot].values.spendLimited += value }
                        }
                    default:
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
        var perGroup: [UsageGroup: UsageAccumulator] = [:]
        for slot in order {
            let (bucket, group) = slotKeys[slot]
            rows.append(
                UsageRow(bucketStart: boundaries[bucket], group: groups[group], values: finish(accumulators[slot])))
            if totals == nil {
                perGroup[groups[group], default: UsageAccumulator()].merge(accumulators[slot], sketches: sketches)
            }
        }
        var chunksRead = self.chunksRead
        if let totals {
            for slot in totals.accumulators.indices where totals.accumulators[slot].values.requests != 0 {
                perGroup[totals.groups[totals.slotKeys[slot].group]] = totals.accumulators[slot]
            }
            chunksRead.merge(totals.chunksRead, uniquingKeysWith: +)
        }
        var total = UsageAccumulator()
        for (_, accumulator) in perGroup { total.merge(accumulator, sketches: sketches) }
        let groupTotals = perGroup.sorted { $0.key < $1.key }.map {
            UsageRow(bucketStart: boundaries[0], group: $0.key, values: finish($0.value))
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
