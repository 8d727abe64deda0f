import Foundation
import Synchronization
import TollgateModel
import TollgateStorage

/// Usage rollups of every request, per series (account, gateway, provider, model, success, cached, priced, refusal)
/// and UTC bucket at four levels — minute, hour, day, month — stored as columns in the catalog (layout in LAYOUT.md).
///
/// The ingest thread calls `fold(_:)` for every record it appends and `checkpoint(watermark:)` after every store
/// commit; the checkpoint writes what was folded since the previous one, with the store position it covers, in one
/// transaction. A commit whose fsync runs while appends go on `freeze()`s what it covers when it begins and writes
/// only that (`checkpointFrozen(watermark:)`) when it ends. Inputs folded but not checkpointed are lost at a crash:
/// after a restart the caller replays the records after `watermark()`. Queries (`usage(_:)`, any thread) see
/// everything checkpointed.
///
/// One engine writes the rollups of a catalog at a time (it numbers new series itself); any number may query.
public final class RollupEngine: Sendable {
    public struct Configuration: Sendable {
        /// A chunk with more parts than this after a checkpoint is compacted back into one part. Reads add up every
        /// part, so this bounds what a query reads for a chunk that is still being written.
        public var compactAfterParts = 16
        /// Most buckets a usage query may return per group (`UsageQueryError.tooManyBuckets` beyond).
        public var maxQueryBuckets = 50_000
        /// The wall clock (Unix ms) a checkpoint records its time with.
        public var now: @Sendable () -> Int64 = TollgateClock.system.wallMilliseconds
        /// Memory for chunks added up by past queries (`ChunkSumsCache`), reused while the chunk does not change:
        /// a query over closed days and months adds up and walks their sketches once. 0 keeps none.
        public var chunkSumsBytes = 64 << 20

        public init() {}
    }

    let store: RollupStore
    let configuration: Configuration
    private let state: Mutex<WriterState>
    /// Chunks added up by past queries; nil when `configuration.chunkSumsBytes` is 0.
    let chunkSums: ChunkSumsCache?

    /// Opens the rollups of `catalog` (its migrations, 0003_rollups included, are applied when it opens).
    public init(catalog: Catalog, configuration: Configuration = Configuration()) throws {
        store = RollupStore(catalog: catalog)
        self.configuration = configuration
        chunkSums = configuration.chunkSumsBytes > 0 ? ChunkSumsCache(limit: configuration.chunkSumsBytes) : nil
        var initial = WriterState()
        for series in try store.allSeries() {
            initial.seriesIds[RollupSeriesKey(series)] = series.id
            initial.nextSeriesId = max(initial.nextSeriesId, series.id + 1)
        }
        state = Mutex(initial)
    }

    // MARK: Folding

    /// Adds one request to its bucket at every level. In memory only, until the next checkpoint.
    public func fold(_ input: RollupInput) {
        apply(input, sign: 1)
    }

    /// Takes back a request folded but never stored (its write failed), exactly as `fold` added it.
    public func unfold(_ input: RollupInput) {
        apply(input, sign: -1)
    }

    /// Moves a request from what it was counted as to what it is now: `old` is taken out of every level and `new`
    /// added, exactly (sketches remove a value by decrementing its bucket). For repricing, `new` is `old` with
    /// another cost — which can move the request between the priced and the unpriced series of its model.
    public func replace(_ old: RollupInput, with new: RollupInput) {
        apply(old, sign: -1)
        apply(new, sign: 1)
    }

    /// Repricing: `input` (as it was folded) now costs `newCost` picodollars (nil = unpriced).
    public func adjustCost(of input: RollupInput, to newCost: Int64?) {
        var repriced = input
        repriced.cost = newCost
        replace(input, with: repriced)
    }

    /// Inputs folded (or replaced: two per replace) since the last checkpoint, frozen ones included.
    public var pendingInputs: Int { state.withLock { s in s.frozen.reduce(s.pendingInputs) { $0 + $1.inputs } } }

    /// Inputs frozen and waiting for `checkpointFrozen(watermark:)`.
    public var frozenInputs: Int { state.withLock { s in s.frozen.reduce(0) { $0 + $1.inputs } } }

    /// Sets aside everything folded so far for the next `checkpointFrozen(watermark:)`: a store commit begins, and
    /// the records appended while its fsync runs are folded apart, for a later checkpoint at a later position. Inputs
    /// a failed write takes back (`unfold`) go with the later ones, which then take back inputs frozen earlier: the
    /// two are written together, never the later alone.
    public func freeze() {
        state.withLock { s in
            guard s.pendingInputs > 0 || !s.newSeries.isEmpty else { return }
            s.frozen.append(FrozenInputs(pending: s.pending, newSeries: s.newSeries, inputs: s.pendingInputs))
            s.pending = LastHitList()
            s.newSeries = []
            s.pendingInputs = 0
        }
    }

    private func apply(_ input: RollupInput, sign: Int64) {
        let latencyIndex = input.durationMicros > 0 ? QuantileSketch.index(of: input.durationMicros) : nil
        let ttftIndex = (input.ttftMicros ?? 0) > 0 ? QuantileSketch.index(of: input.ttftMicros!) : nil
        let t = input.createdAt
        let hourStart = UTCCalendar.floor(t, RollupLevel.hourMs)
        let dayStart = UTCCalendar.floor(t, RollupLevel.dayMs)
        state.withLock { s in
            let day = s.place(ofDay: dayStart)
            /// The chunk and the bucket in it of each level (`RollupLevel.rawValue`).
            func place(_ level: Int) -> (chunk: Int64, offset: Int) {
                switch level {
                case 0: (hourStart, Int((t - hourStart) / RollupLevel.minuteMs))
                case 1: (dayStart, Int((hourStart - dayStart) / RollupLevel.hourMs))
                case 2: (day.monthStart, day.dayOfMonth - 1)
                default: (day.yearStart, day.month - 1)
                }
            }
            let series = s.seriesId(for: input)
            s.pendingInputs += 1
            // The account's pending chunks changed where the list holds them: no copy.
            s.pending.withValue(input.account, empty: PendingAccount()) { account in
                for level in 0..<4 {
                    let (chunk, offset) = place(level)
                    account.levels[level].withValue(UInt64(bitPattern: chunk), empty: PendingChunk()) {
                        $0.add(
                            CellKey(offset: offset, series: series), input, latencyIndex: latencyIndex,
                            ttftIndex: ttftIndex, sign: sign)
                    }
                }
            }
        }
    }

    // MARK: Checkpoints

    /// Writes everything folded since the last checkpoint, and `watermark`, in one transaction; afterwards queries
    /// see every folded input and `watermark()` returns `watermark`. Only the chunks that changed are written (as a
    /// new part each; chunks with many parts are compacted). On error nothing is written and the folded inputs stay
    /// pending for the next checkpoint.
    ///
    /// - Parameter alsoIn: more writes to commit in the same transaction (repricing updates the log index's costs
    ///   with the rollups they move).
    @discardableResult
    public func checkpoint(
        watermark: RollupWatermark, alsoIn: ((RollupTransaction) throws -> Void)? = nil
    ) throws -> RollupCheckpointStatistics {
        try checkpoint(watermark: watermark, frozenOnly: false, alsoIn: alsoIn)
    }

    /// `checkpoint(watermark:)` of the inputs set aside by `freeze()` only: those folded since stay pending.
    @discardableResult
    public func checkpointFrozen(watermark: RollupWatermark) throws -> RollupCheckpointStatistics {
        try checkpoint(watermark: watermark, frozenOnly: true, alsoIn: nil)
    }

    private func checkpoint(
        watermark: RollupWatermark, frozenOnly: Bool, alsoIn: ((RollupTransaction) throws -> Void)?
    ) throws -> RollupCheckpointStatistics {
        let now = configuration.now()
        let limit = configuration.compactAfterParts
        return try state.withLock { s in
            // Frozen inputs first, in the order they were folded: a series is inserted before a part names it.
            var sets = s.frozen
            if !frozenOnly {
                sets.append(FrozenInputs(pending: s.pending, newSeries: s.newSeries, inputs: s.pendingInputs))
            }
            let statistics = try store.write { transaction in
                try alsoIn?(transaction)
                var statistics = RollupCheckpointStatistics()
                for set in sets {
                    statistics.inputs += set.inputs
                    for (id, key) in set.newSeries {
                        try transaction.insertSeries(key.record(id: id))
                    }
                    for (account, pending) in zip(set.pending.keys, set.pending.values) {
                        for level in RollupLevel.allCases {
                            let chunks = pending.levels[level.rawValue]
                            for (chunkStart, chunk) in zip(chunks.keys, chunks.values) {
                                let key = RollupChunkKey(
                                    level: level.name, account: account, chunkStart: Int64(bitPattern: chunkStart))
                                try Self.writePart(
                                    chunk, key,
                                    compactAfterParts: limit, transaction: transaction, statistics: &statistics)
                            }
                        }
                    }
                }
                try transaction.setWatermark(
                    RollupStorePosition(segment: watermark.segment, offset: watermark.offset), at: now)
                return statistics
            }
            s.frozen = []
            if !frozenOnly {
                s.pending = LastHitList()
                s.newSeries = []
                s.pendingInputs = 0
            }
            return statistics
        }
    }

    private static func writePart(
        _ chunk: PendingChunk, _ key: RollupChunkKey, compactAfterParts: Int, transaction: RollupTransaction,
        statistics: inout RollupCheckpointStatistics
    ) throws {
        let order = chunk.sortedPositions()
        guard !order.isEmpty else { return }
        let (maxPart, parts) = try transaction.parts(of: key)
        for (column, blob) in ChunkCodec.encode(keys: chunk.cells.keys, values: chunk.cells.values, order: order) {
            try transaction.insertColumn(blob, measure: column.rawValue, of: key, part: maxPart + 1)
            statistics.bytesWritten += blob.count
        }
        statistics.partsWritten += 1
        statistics.cellsWritten += order.count
        if parts + 1 > compactAfterParts {
            let full = try compact(key, transaction: transaction)
            statistics.compactions += 1
            if full { statistics.fullCompactions += 1 }
        }
    }

    /// Rewrites the parts of a chunk as fewer parts holding the same sums. When the deltas are small next to the base
    /// (a chunk still being written long after it was first compacted: the day chunk of the current month), only
    /// the deltas are merged, into part 1, so the cost follows what changed; otherwise every part becomes part 0.
    /// Returns true for a full compaction.
    @discardableResult
    static func compact(_ key: RollupChunkKey, transaction: RollupTransaction, whole: Bool = false) throws -> Bool {
        var parts: [Int64: [RollupColumn: [UInt8]]] = [:]
        var bytes: [Int64: Int] = [:]
        for column in RollupColumn.allCases {
            let rows = try transaction.chunkColumn(
                level: key.level, account: key.account, measure: column.rawValue,
                chunks: key.chunkStart..<(key.chunkStart + 1))
            for row in rows {
                parts[row.part, default: [:]][column] = row.data
                bytes[row.part, default: 0] += row.data.count
            }
        }
        let baseBytes = bytes[0] ?? 0
        let deltaBytes = bytes.filter { $0.key != 0 }.values.reduce(0, +)
        let full = whole || deltaBytes * 2 >= baseBytes
        var merged: [CellKey: RollupCell] = [:]
        for (part, columns) in parts where full || part != 0 {
            for (key, cell) in try ChunkCodec.decodeCells(columns) { merged[key, default: RollupCell()].merge(cell) }
        }
        for column in RollupColumn.allCases {
            try transaction.deleteColumn(measure: column.rawValue, of: key, deltasOnly: !full)
        }
        let cells = merged.filter { !$0.value.isZero }.sorted { $0.key < $1.key }.map { (key: $0.key, cell: $0.value) }
        guard !cells.isEmpty else { return full }
        for (column, blob) in ChunkCodec.encode(cells) {
            try transaction.insertColumn(blob, measure: column.rawValue, of: key, part: full ? 0 : 1)
        }
        return full
    }

    /// Compacts every chunk that has more than one part into part 0, in one transaction, and returns how many. For
    /// after a rebuild: replaying every record with a checkpoint every few hundred thousand leaves the chunks of the
    /// replayed range in many big parts, which every query would add up again.
    @discardableResult
    public func compactAll() throws -> Int {
        try state.withLock { _ in
            try store.write { transaction in
                let chunks = try transaction.chunksWithParts()
                for chunk in chunks where RollupLevel.allCases.contains(where: { $0.name == chunk.level }) {
                    try Self.compact(chunk, transaction: transaction, whole: true)
                }
                return chunks.count
            }
        }
    }

    /// The position of the last checkpoint; nil before the first (or after `reset()`).
    public func watermark() throws -> RollupWatermark? {
        try store.watermark().map { RollupWatermark(segment: $0.segment, offset: $0.offset) }
    }

    /// Deletes every rollup, the series dictionary and the watermark, and drops what is pending: for a rebuild, after
    /// which the caller folds every record again and checkpoints.
    public func reset() throws {
        try state.withLock { s in
            try store.reset()
            s = WriterState()
        }
    }
}

/// What one checkpoint wrote.
public struct RollupCheckpointStatistics: Sendable, Hashable {
    /// Inputs folded since the previous checkpoint (a replace counts two).
    public var inputs = 0
    /// Chunk parts written (one per chunk that changed, at every level).
    public var partsWritten = 0
    /// Cells (series × bucket) in them.
    public var cellsWritten = 0
    /// Bytes of column blobs written.
    public var bytesWritten = 0
    /// Chunks compacted (their deltas merged into one part).
    public var compactions = 0
    /// Of these, the chunks compacted whole (base and deltas into one part).
    public var fullCompactions = 0
}

/// The ingest thread's state: the series dictionary and the deltas folded since the last checkpoint.
struct WriterState {
    var seriesIds: [RollupSeriesKey: Int64] = [:]
    var nextSeriesId: Int64 = 1
    var newSeries: [(Int64, RollupSeriesKey)] = []
    var pending = LastHitList<String, PendingAccount>()
    var pendingInputs = 0
    /// Inputs set aside by `freeze()`, oldest first.
    var frozen: [FrozenInputs] = []

    /// Where the day last folded into lies in its month and year: consecutive inputs mostly share their day, and
    /// the calendar's arithmetic costs more than the comparison.
    var lastDay = DayPlace(dayStart: 0)

    mutating func seriesId(for input: RollupInput) -> Int64 {
        // The series are compared where they lie: a copy out of the array would retain and release five texts.
        if lastSlot >= 0, recentKeys.withUnsafeBufferPointer({ input.isOf($0.baseAddress! + lastSlot) }) {
            return recentIds[lastSlot]
        }
        let slot = Self.recentSlot(of: input)
        if recentIds[slot] != 0, recentKeys.withUnsafeBufferPointer({ input.isOf($0.baseAddress! + slot) }) {
            lastSlot = slot
            return recentIds[slot]
        }
        let key = input.seriesKey
        let id = seriesId(for: key)
        recentKeys[slot] = key
        recentIds[slot] = id
        lastSlot = slot
        return id
    }

    /// The series found lately, in slots by a fingerprint of the input's fields (`recentSlot`); an id of 0 marks a
    /// free slot (ids start at 1). An input whose series is in its slot is compared with it, field by field, instead
    /// of hashing its five texts to look it up (about 1,100 instructions a record when consecutive records are of
    /// different series, as `tollgate generate` and a rollup rebuild fold them).
    var recentKeys = [RollupSeriesKey](
        repeating: RollupSeriesKey(
            account: "", gateway: "", provider: "", model: "", success: false, cached: false, priced: false),
        count: WriterState.recentSlots)
    var recentIds = [Int64](repeating: 0, count: WriterState.recentSlots)
    /// The slot of the series last folded into: consecutive inputs mostly share their series. -1 before any.
    var lastSlot = -1
    static let recentSlots = 256

    /// A slot from the input's flags, the lengths of its model, provider and gateway, and the model's last byte
    /// (models of one family often differ only there).
    static func recentSlot(of input: RollupInput) -> Int {
        var fingerprint: UInt64 = input.success ? 1 : 0
        if input.cached { fingerprint |= 2 }
        if input.cost != nil { fingerprint |= 4 }
        if input.refusal != nil { fingerprint |= 8 }
        if let model = input.model {
            let (count, last) =
                model.utf8.withContiguousStorageIfAvailable { ($0.count, $0.last ?? 0) }
                ?? (model.utf8.count, model.utf8.last ?? 0)
            fingerprint |= UInt64(truncatingIfNeeded: count) << 4 | UInt64(last) << 12
        }
        fingerprint |= UInt64(truncatingIfNeeded: input.provider.utf8.count) << 20
        fingerprint |= UInt64(truncatingIfNeeded: input.gateway.utf8.count) << 28
        return Int(truncatingIfNeeded: (fingerprint &* 0x9E37_79B9_7F4A_7C15) &>> 56)
    }

    mutating func place(ofDay dayStart: Int64) -> DayPlace {
        if lastDay.dayStart != dayStart { lastDay = DayPlace(dayStart: dayStart) }
        return lastDay
    }

    mutating func seriesId(for key: RollupSeriesKey) -> Int64 {
        if let id = seriesIds[key] { return id }
        let id = nextSeriesId
        nextSeriesId += 1
        seriesIds[key] = id
        newSeries.append((id, key))
        return id
    }
}

/// Inputs folded and set aside for a checkpoint (`RollupEngine.freeze()`), with the series they made.
struct FrozenInputs {
    var pending: LastHitList<String, PendingAccount>
    var newSeries: [(Int64, RollupSeriesKey)]
    var inputs: Int
}

/// A day's place in its month and year: the starts of the month and year chunks it falls in.
struct DayPlace {
    let dayStart: Int64
    let monthStart: Int64
    let yearStart: Int64
    /// 1–31.
    let dayOfMonth: Int
    /// 1–12.
    let month: Int

    init(dayStart: Int64) {
        self.dayStart = dayStart
        let date = UTCCalendar.civil(fromDays: dayStart / RollupLevel.dayMs)
        monthStart = UTCCalendar.days(year: date.year, month: date.month, day: 1) * RollupLevel.dayMs
        yearStart = UTCCalendar.days(year: date.year, month: 1, day: 1) * RollupLevel.dayMs
        dayOfMonth = Int(date.day)
        month = Int(date.month)
    }
}

/// The pending chunks of one account, by level (index = `RollupLevel.rawValue`) and chunk start.
struct PendingAccount {
    /// By chunk start (as a bit pattern).
    var levels = [PackedKeyTable<PendingChunk>](repeating: PackedKeyTable(), count: 4)
}

/// The cells of one chunk changed since the last checkpoint.
struct PendingChunk {
    /// By `CellKey.packed`.
    var cells = PackedKeyTable<RollupCell>()

    @inline(__always)
    mutating func add(
        _ key: CellKey, _ input: RollupInput, latencyIndex: Int32?, ttftIndex: Int32?, sign: Int64
    ) {
        cells.withValue(key.packed, empty: RollupCell()) {
            $0.add(input, latencyIndex: latencyIndex, ttftIndex: ttftIndex, sign: sign)
        }
    }

    /// The positions of the non-zero cells, in (bucket, series) order (a replace may cancel a cell out).
    func sortedPositions() -> [Int] {
        let keys = cells.keys
        let values = cells.values
        return keys.indices.filter { !values[$0].isZero }.sorted { keys[$0] < keys[$1] }
    }
}
