import Foundation
import TollgateModel

/// The logs of sealed segments that answer for themselves: a segment sealed with every listing column leaves the
/// `logs` rows (FORMAT.md, "Columns frame"; `Schema/0016_sealed_segments.sql`), and listings, lookups, deletions,
/// annotations and repricing reach its logs through its columns, its summary and its costs.
extension Catalog {
    /// The names a sealed segment's logs carry, as `sealed_segments.names` stores them.
    private struct Names: Codable {
        var accounts: [String]
        var gateways: [String]
        var providers: [String]
        var models: [String]
    }

    /// Loads `sealed_segments` (at open).
    static func loadSealedLogs(_ db: SQLiteConnection, into sealed: SealedLogs) throws {
        let rows = try db.query(NamedQueries.sql("sealed_segments_all")) { row -> SealedLogs.Segment in
            guard let min = LogID(bytes: row.blob(at: 1)), let max = LogID(bytes: row.blob(at: 2)) else {
                throw CatalogError(code: .invalidValue, message: "a sealed segment has an id that is not 16 bytes")
            }
            let names = try JSONDecoder().decode(Names.self, from: Data(row.string(at: 4).utf8))
            let summary = SegmentSummary(
                segment: UInt32(truncatingIfNeeded: row.int64(at: 0)), minID: min, maxID: max,
                logs: Int(row.int64(at: 3)), accounts: Set(names.accounts), gateways: Set(names.gateways),
                providers: Set(names.providers), models: Set(names.models))
            let blocks = row.isNull(at: 5) ? nil : try SegmentBlockRows(encoded: row.blob(at: 5))
            return SealedLogs.Segment(summary: summary, blockRows: blocks)
        }
        for segment in rows { sealed.set(segment) }
    }

    /// Records segment `entry` sealed. When its columns hold every listing column, in the same transaction its logs
    /// leave the catalog's memory of the segment being written (`ActiveSegmentLogs`, or the `logs` rows of a
    /// segment written before): their costs go to the segment's costs, its summary to `sealed_segments`. Every
    /// record of the segment must be indexed already (the store seals after indexing what it appended).
    func sealSegment(_ entry: SegmentEntry, rows sealed: SealedRows) throws {
        let active = sealedLogs.withActive { $0[entry.seq] }
        guard let summary = sealed.summary else {
            // A segment without its listing columns: its logs are `logs` rows (none are active: such a segment is
            // not written any more, only read).
            try write { db in
                try db.transaction {
                    try Self.upsertSegment(entry, in: db)
                    if let active, active.count > 0 {
                        _ = try Self.insertRows(
                            (0..<active.count).map { row in
                                LogIndexEntry(
                                    columns: active.block, row: row, cost: active.costs.cost[row],
                                    saved: active.costs.saved[row], annotation: nil)
                            }, counting: false, in: db)
                    }
                    try db.run(NamedQueries.sql("logs_counted_delete"), [.integer(Int64(entry.seq))])
                }
            }
            sealedLogs.seal(entry.seq, as: nil)
            return
        }
        let names = Names(
            accounts: summary.accounts.sorted(), gateways: summary.gateways.sorted(),
            providers: summary.providers.sorted(), models: summary.models.sorted())
        let namesJSON = String(decoding: try JSONEncoder().encode(names), as: UTF8.self)
        let blockRows = SegmentBlockRows(offsets: sealed.offsets)
        let costs = try write { db in
            try db.transaction { () throws -> EncodedSegmentCosts in
                try Self.upsertSegment(entry, in: db)
                var costs = active?.costs(of: sealed.offsets) ?? SegmentCosts(rows: sealed.count)
                // The `logs` rows of a segment whose writing began before active segments were kept in memory.
                var byOffset: [UInt64: (cost: Int64?, saved: Int64?)] = [:]
                for row in try db.query(
                    NamedQueries.sql("sealed_segment_log_costs"), [.integer(Int64(entry.seq))],
                    row: { (UInt64(bitPattern: $0.int64(at: 0)), $0.optionalInt64(at: 1), $0.optionalInt64(at: 2)) })
                {
                    byOffset[row.0] = (row.1, row.2)
                }
                if !byOffset.isEmpty {
                    for row in 0..<sealed.count {
                        guard let priced = byOffset[sealed.offsets[row]] else { continue }
                        costs.cost[row] = priced.cost
                        costs.saved[row] = priced.saved
                    }
                    try db.run(NamedQueries.sql("sealed_segment_logs_delete"), [.integer(Int64(entry.seq))])
                }
                let encodedCosts = EncodedSegmentCosts(costs)
                try db.run(
                    NamedQueries.sql("sealed_segment_insert"),
                    [
                        .integer(Int64(entry.seq)), .blob(summary.minID.bytes), .blob(summary.maxID.bytes),
                        .integer(Int64(summary.logs)), .text(namesJSON), .blob(encodedCosts.bytes),
                        blockRows.map { .blob($0.encoded(rows: sealed.count)) } ?? .null,
                    ])
                try db.run(NamedQueries.sql("logs_counted_delete"), [.integer(Int64(entry.seq))])
                return encodedCosts
            }
        }
        sealedLogs.seal(entry.seq, as: SealedLogs.Segment(summary: summary, blockRows: blockRows), costs: costs)
    }

    // MARK: Active segments

    /// A durable log of a segment being written, as the store adds it: its record without headers and bodies (what
    /// its columns are made of), where it is, and its price. The store holds a commit interval's logs this way until
    /// they are durable; their headers and bodies, most of a record, are in the segment already and are not kept
    /// twice, and the index entry is made from the rest when asked for rather than kept beside it.
    public struct ActiveLog: Sendable {
        public private(set) var record: LogRecord
        public let location: RecordLocation
        /// Picodollars, as the store's observer priced the record (nil: unpriced).
        public let price: Int64?

        /// Takes the record's fields but its headers and bodies, which are neither retained nor released (a copy of
        /// the whole record, then clearing them, did both for every log of a commit).
        public init(_ record: borrowing LogRecord, location: RecordLocation, price: Int64?) {
            self = withUnsafePointer(to: record) { ActiveLog($0, location: location, price: price) }
        }

        /// `init(_:location:price:)` for the record `record` points to, read where it lies (the store's records lie
        /// in their batch), field by field.
        init(_ record: UnsafePointer<LogRecord>, location: RecordLocation, price: Int64?) {
            var columns = LogRecord(
                id: record.pointee.id, createdAt: record.pointee.createdAt, account: record.pointee.account,
                gateway: record.pointee.gateway,
                provider: record.pointee.provider, model: record.pointee.model, path: record.pointee.path,
                method: record.pointee.method,
                statusCode: record.pointee.statusCode, success: record.pointee.success, stream: record.pointee.stream,
                durationMicros: record.pointee.durationMicros, ttftMicros: record.pointee.ttftMicros,
                usage: record.pointee.usage,
                requestSize: record.pointee.requestSize, responseSize: record.pointee.responseSize,
                error: record.pointee.error,
                metadata: record.pointee.metadata, requestHeaders: [], responseHeaders: [], requestBody: [],
                responseBody: [],
                payloadStored: record.pointee.payloadStored, customCost: record.pointee.customCost,
                logged: record.pointee.logged,
                eventID: record.pointee.eventID, attempt: record.pointee.attempt, step: record.pointee.step,
                cached: record.pointee.cached)
            columns.refusal = record.pointee.refusal
            self.record = columns
            self.location = location
            self.price = price
        }

        /// The log's index entry: its cost and saved amount from `price`, as `LogIndexEntry` derives them.
        public var entry: LogIndexEntry { LogIndexEntry(record, location: location, price: price) }

        /// What the log costs and saved (`LogIndexEntry.charges`).
        var charges: (cost: Int64?, saved: Int64?) { LogIndexEntry.charges(of: record, price: price) }
    }

    /// Adds durable logs of the segments being written (the group commit's): they are listed from now on, and
    /// counted in `log_counts` in one transaction with the mark that says so (`logs_counted`). A log whose id its
    /// segment holds already is skipped. Returns how many were added. `columns`, when given, holds the writer's
    /// column values of the same logs, from which their fields are taken (`ActiveColumns`).
    @discardableResult
    public func addActiveLogs(_ logs: [ActiveLog], columns: ActiveColumns? = nil) throws -> Int {
        guard !logs.isEmpty else { return 0 }
        // Which logs are new: not in their segment yet, nor earlier in this batch. Only the store's writer adds
        // logs, so what is new now is still new after the transaction.
        var fresh = [Bool](repeating: true, count: logs.count)
        var months: [MonthKey: Int64] = [:]
        var through: [UInt32: UInt64] = [:]
        // Runs of logs of one segment (a batch spans two at most, around a rotation).
        var runs: [(segment: UInt32, logs: Range<Int>)] = []
        for i in logs.indices {
            let seq = logs[i].location.segment
            if let last = runs.last, last.segment == seq {
                runs[runs.count - 1].logs = last.logs.lowerBound..<(i + 1)
            } else {
                runs.append((seq, i..<(i + 1)))
            }
        }
        sealedLogs.withActive { active in
            for (seq, run) in runs {
                active[seq]?.withIDs { held in
                    for i in run where held(logs[i].record.id) { fresh[i] = false }
                }
                // Logs come nearly always in id order: rising ids cannot repeat one another, and only a run
                // that does not rise is looked at through a set.
                var rising = true
                var previous: LogID?
                for i in run where fresh[i] {
                    let id = logs[i].record.id
                    if let previous, !(previous < id) {
                        rising = false
                        break
                    }
                    previous = id
                }
                if !rising {
                    var batch = Set<LogID>(minimumCapacity: run.count)
                    for i in run where fresh[i] {
                        if !batch.insert(logs[i].record.id).inserted { fresh[i] = false }
                    }
                }
                through[seq] = max(through[seq] ?? 0, logs[run.upperBound - 1].location.offset)
            }
        }
        // Counted by runs of one account and month (a commit's logs are nearly always one account's of one month),
        // each run added to the table once.
        var month: Range<Int64> = 0..<0
        var run: (key: MonthKey, count: Int64)?
        for i in logs.indices where fresh[i] {
            let createdAt = logs[i].record.createdAt
            if !month.contains(createdAt) {
                let start = UTCMonth.start(of: createdAt)
                month = start..<UTCMonth.next(after: start)
            }
            if run != nil, run!.key.start == month.lowerBound, run!.key.account == logs[i].record.account {
                run!.count += 1
            } else {
                if let ended = run { months[ended.key, default: 0] += ended.count }
                run = (MonthKey(account: logs[i].record.account, start: month.lowerBound), 1)
            }
        }
        if let ended = run { months[ended.key, default: 0] += ended.count }
        try write { db in
            try db.transaction {
                try Self.count(months, in: db)
                for (seq, offset) in through {
                    try db.run(
                        NamedQueries.sql("logs_counted_set"),
                        [.integer(Int64(seq)), .integer(Int64(bitPattern: offset))])
                }
            }
        }
        var added = 0
        sealedLogs.withActive { active in
            // Each log read in place: a copy of it would retain and release every text of its record.
            logs.withUnsafeBufferPointer { logs in
                if let columns, columns.count == logs.count {
                    for run in columns.runs.indices {
                        let seq = columns.runs[run].segment
                        let rows = columns.logs(of: run).filter { fresh[$0] }
                        guard !rows.isEmpty else {
                            active[seq]?.learn(columns.runs[run])
                            continue
                        }
                        added += active[seq, default: ActiveSegmentLogs(segment: seq)].append(
                            logs, rows: rows, columns: columns, run: run)
                    }
                    return
                }
                for (seq, run) in runs {
                    let rows = run.filter { fresh[$0] }
                    guard !rows.isEmpty else { continue }
                    added += active[seq, default: ActiveSegmentLogs(segment: seq)].append(logs, rows: rows)
                }
            }
        }
        return added
    }

    /// Rebuilds the logs of segment `seq`, being written or sealed without the catalog knowing, from its records
    /// (on open; deleted logs already left out): those after its `logs_counted` mark are counted now. The segment's
    /// `logs` rows, if it was being written before logs were kept in memory, give way to them: counted up to the
    /// last of them.
    public func restoreActiveLogs(segment seq: UInt32, _ logs: [ActiveLog]) throws {
        let restored = try write { db in
            try db.transaction { () throws -> ActiveSegmentLogs in
                let mark = try db.queryFirst(NamedQueries.sql("logs_counted_get"), [.integer(Int64(seq))]) {
                    UInt64(bitPattern: $0.int64(at: 0))
                }
                let rows =
                    try db.queryFirst(NamedQueries.sql("log_max_offset"), [.integer(Int64(seq))]) {
                        $0.optionalInt64(at: 0).map { UInt64(bitPattern: $0) }
                    } ?? nil
                let counted = [mark, rows].compactMap { $0 }.max()
                var restored = ActiveSegmentLogs(segment: seq)
                var uncounted: [MonthKey: Int64] = [:]
                for log in logs
                where restored.append(
                    log.record, at: log.location, cost: log.charges.cost, saved: log.charges.saved)
                {
                    guard counted.map({ log.location.offset > $0 }) ?? true else { continue }
                    uncounted[
                        MonthKey(account: log.record.account, start: UTCMonth.start(of: log.record.createdAt)),
                        default: 0] += 1
                }
                try Self.count(uncounted, in: db)
                if rows != nil { try db.run(NamedQueries.sql("sealed_segment_logs_delete"), [.integer(Int64(seq))]) }
                if let last = logs.map(\.location.offset).max() {
                    try db.run(
                        NamedQueries.sql("logs_counted_set"), [.integer(Int64(seq)), .integer(Int64(bitPattern: last))])
                }
                return restored
            }
        }
        sealedLogs.withActive { $0[seq] = restored.count > 0 ? restored : nil }
    }

    /// For a catalog opened beside the process that writes the folder (or on a stopped folder), to read it: loads
    /// the logs of the segments not recorded sealed from their records as they are on disk now, deleted ones left
    /// out and priced by `price`, into this catalog's memory only (nothing is written; the writing process keeps
    /// its own). The segment being written is read up to its last whole frame, so a log appended a moment ago and
    /// not yet committed may be among them. A segment whose logs are still `logs` rows (written before logs of a
    /// segment being written were kept in memory) is left to its rows.
    public func loadUnsealedLogs(price: (LogRecord) -> Int64?) throws {
        let reader = sealedLogs.listing.reader
        let sealed = Set(try segments().filter { $0.state == .sealed }.map(\.seq))
        let files = try reader.segments()
        for seq in files where !sealed.contains(seq) {
            let rows = try read { db in
                try db.queryFirst(NamedQueries.sql("log_max_offset"), [.integer(Int64(seq))]) {
                    $0.optionalInt64(at: 0)
                } ?? nil
            }
            guard rows == nil else { continue }
            let deleted = try tombstones(segment: seq)
            var logs = ActiveSegmentLogs(segment: seq)
            do {
                try reader.forEachRecord(in: seq) { location, record in
                    guard record.logged, !deleted.contains(LogKey(account: record.account, id: record.id)) else {
                        return
                    }
                    let charged = LogIndexEntry.charges(of: record, price: price(record))
                    _ = logs.append(record, at: location, cost: charged.cost, saved: charged.saved)
                }
            } catch  where seq == files.last {
                // A frame the writer is writing right now: what came before it is read.
            }
            sealedLogs.withActive { $0[seq] = logs.count > 0 ? logs : nil }
        }
    }

    /// Adds logs to `log_counts`, by account and month.
    private static func count(_ months: [MonthKey: Int64], in db: SQLiteConnection) throws {
        for (key, count) in months {
            try db.run(NamedQueries.sql("log_counts_add"), [.text(key.account), .integer(key.start), .integer(count)])
        }
    }

    /// A compacted segment's rewritten file is in place: its decoded columns are forgotten and, for a segment that
    /// answers for its logs, the tombstones of the logs that became usage records (`purged`) go now (a crash before
    /// leaves them to the next pass, which finds nothing to purge and forgets them).
    public func sealedSegmentRewritten(_ seq: UInt32, purged: [LogKey]) throws {
        sealedLogs.listing.forget(seq)
        guard sealedLogs.segment(seq) != nil else { return }
        // Rewritten blocks moved: the block rows of the file now in place.
        let offsets = try sealedLogs.listing.reader.columns(of: seq).offsets
        let blockRows = SegmentBlockRows(offsets: offsets)
        try write { db in
            try db.transaction {
                try forgetTombstones(purged, segment: seq, in: db)
                try db.run(
                    NamedQueries.sql("sealed_segment_blocks_set"),
                    [.integer(Int64(seq)), blockRows.map { .blob($0.encoded(rows: offsets.count)) } ?? .null])
            }
        }
        sealedLogs.setBlockRows(blockRows, of: seq)
    }

    // MARK: Reading

    /// The deleted logs of `account` in sealed segment `seq`.
    private func deletedIDs(account: String, segment seq: UInt32) throws -> Set<LogID> {
        Set(try tombstones(segment: seq).filter { $0.account == account }.map(\.id))
    }

    /// The annotations of `account`'s logs with ids in [`low`, `high`].
    private func annotations(account: String, from low: LogID, to high: LogID) throws -> [LogID: LogAnnotation] {
        try read { db in
            var out: [LogID: LogAnnotation] = [:]
            for (id, annotation) in try db.query(
                NamedQueries.sql("log_annotations_in_range"), [.text(account), .blob(low.bytes), .blob(high.bytes)],
                row: { row in (try Self.logID(row, at: 0), try Self.annotation(row, from: 1)) })
            {
                out[id] = annotation
            }
            return out
        }
    }

    /// An annotation from its three columns (feedback, score, metadata) starting at `index`.
    static func annotation(_ row: SQLiteStatement, from index: Int) throws -> LogAnnotation {
        var annotation = LogAnnotation(
            feedback: row.optionalInt64(at: index).map { Int($0) },
            score: row.optionalInt64(at: index + 1).map { Int($0) })
        if let json = row.optionalString(at: index + 2) {
            guard let decoded = LogMetadataJSON.decode(json) else {
                throw CatalogError(code: .invalidValue, message: "an annotation's metadata is not a flat JSON object")
            }
            annotation.metadata = decoded
        }
        return annotation
    }

    /// The first `limit` logs of the sealed segments `query` lists after `after`, as index entries.
    func sealedPage(_ query: LogQuery, after: LogID?, limit: Int) throws -> [LogIndexEntry] {
        guard !sealedLogs.isEmpty else { return [] }
        var annotationsBySegment: [UInt32: [LogID: LogAnnotation]] = [:]
        let rows = try sealedLogs.listing.page(
            query, after: after, limit: limit, segments: sealedLogs.summaries,
            deleted: { try self.deletedIDs(account: query.account, segment: $0) },
            annotations: { seq in
                guard let summary = self.sealedLogs.summary(of: seq) else { return [:] }
                let found = try self.annotations(account: query.account, from: summary.minID, to: summary.maxID)
                annotationsBySegment[seq] = found
                return found
            },
            columns: { try self.sealedLogs.columns(of: $0) })
        // Each segment's costs read as the rows come (nearly in row order), not decoded whole.
        var costsBySegment: [UInt32: SealedLogs.PageCosts] = [:]
        for seq in Set(rows.map(\.columns.block.segment)) {
            costsBySegment[seq] = try read { try sealedLogs.pageCosts(of: seq, in: $0) }
        }
        return rows.map { row in
            let seq = row.columns.block.segment
            let priced = costsBySegment[seq]?.costs(of: row.row)
            return LogIndexEntry(
                columns: row.columns.block, row: row.row, cost: priced?.cost, saved: priced?.saved,
                annotation: annotationsBySegment[seq]?[row.id])
        }
    }

    /// A log of `account` in a sealed segment, by id: its entry (nil when it is not there, is deleted or is a usage
    /// record).
    func sealedEntry(account: String, id: LogID) throws -> LogIndexEntry? {
        try sealedLog(account: account, id: id)?.entry
    }

    /// `sealedEntry`, with the stored record when finding the entry read it (a segment whose columns are not in
    /// memory), so a caller that wants both does not read its block again.
    func sealedLog(account: String, id: LogID) throws -> (entry: LogIndexEntry, record: LogRecord?)? {
        for seq in sealedLogs.segments(holding: id) {
            guard let located = try located(account: account, id: id, in: seq) else { continue }
            var entry = located.entry
            let (deleted, annotation) = try read { db in
                let key: [SQLiteValue] = [.text(account), .blob(id.bytes)]
                let deleted =
                    try db.queryFirst(
                        NamedQueries.sql("log_tombstone_exists"), [.integer(Int64(seq))] + key, row: { _ in true })
                    ?? false
                let annotation = try db.queryFirst(
                    NamedQueries.sql("log_annotation_get"), key, row: { try Self.annotation($0, from: 0) })
                return (deleted, annotation)
            }
            guard !deleted else { return nil }
            entry.annotation = annotation.flatMap { $0.isEmpty ? nil : $0 }
            return (entry, located.record)
        }
        return nil
    }

    /// The entry (without its annotation) of `account`'s log `id` in segment `seq`, whether deleted or not; nil when
    /// the segment has no such log. Through the segment's columns when they are in memory (the segment being
    /// written, or a sealed one a listing decoded lately); otherwise through its id index and the record itself,
    /// which reads one block instead of decoding every column of the segment.
    private func located(account: String, id: LogID, in seq: UInt32) throws -> (
        entry: LogIndexEntry, record: LogRecord?
    )? {
        func cost(row: Int) throws -> (cost: Int64?, saved: Int64?) {
            try read { try sealedLogs.cost(of: seq, row: row, in: $0) } ?? (nil, nil)
        }
        let reader = sealedLogs.listing.reader
        if let columns = sealedLogs.loadedColumns(of: seq) {
            let block = columns.block
            let position = columns.firstPosition(notBelow: id)
            guard position < block.count else { return nil }
            let row = Int(columns.idOrder[position])
            guard block.ids[row] == id, block.flags(.logged)[row], block.strings(.account)[row] == account else {
                return nil
            }
            let priced = try cost(row: row)
            return (
                LogIndexEntry(columns: block, row: row, cost: priced.cost, saved: priced.saved, annotation: nil), nil
            )
        }
        // Through the record: where it is, and its row in the columns (and costs).
        let location: RecordLocation
        let row: Int
        var fileRow: Int?
        if let blocks = sealedLogs.blockRows(of: seq) {
            // A few small reads of the id index, the block, and the row from the location.
            guard let found = try reader.locateRow(id, in: seq), let foundRow = blocks.row(of: found.location.offset)
            else { return nil }
            (location, row, fileRow) = (found.location, foundRow, found.row)
        } else {
            let index = try reader.index(of: seq)
            guard let found = index.location(of: id) else { return nil }
            // The record's row is its place in append order: offsets grow with it.
            (location, row) = (found, index.offsets.reduce(0) { $1 < found.offset ? $0 + 1 : $0 })
        }
        // The row the segment's own index names (in a version 4 or 5 segment, the record's metadata is there).
        let record = try fileRow.map { try reader.read(location, row: $0, id: id) } ?? reader.read(location)
        guard record.id == id, record.logged, record.account == account else { return nil }
        var entry = LogIndexEntry(record, location: location)
        (entry.cost, entry.saved) = try cost(row: row)
        return (entry, record)
    }

    // MARK: Deleting

    /// Deletes logs of sealed segments (entries `sealedEntry` or `sealedPage` gave) inside the caller's transaction:
    /// a tombstone each (the record stays until compaction), the annotation, the month's count. Returns how many
    /// were deleted (a log already deleted is not counted).
    static func deleteSealed(_ entries: [LogIndexEntry], account: String, in db: SQLiteConnection) throws -> Int {
        var deleted = 0
        var months: [Int64: Int64] = [:]
        for entry in entries {
            try db.run(
                NamedQueries.sql("log_tombstone_insert"),
                [.integer(Int64(entry.location.segment)), .text(account), .blob(entry.id.bytes)])
            guard db.changes > 0 else { continue }
            try db.run(NamedQueries.sql("log_annotation_delete"), [.text(account), .blob(entry.id.bytes)])
            months[UTCMonth.start(of: entry.createdAt), default: 0] -= 1
            deleted += 1
        }
        for (start, change) in months {
            try db.run(NamedQueries.sql("log_counts_add"), [.text(account), .integer(start), .integer(change)])
        }
        return deleted
    }
}
