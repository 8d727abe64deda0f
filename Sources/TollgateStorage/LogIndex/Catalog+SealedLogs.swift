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
            return SealedLogs.Segment(summary: summary, costs: try SegmentCosts(encoded: row.blob(at: 5)))
        }
        for segment in rows { sealed.set(segment) }
    }

    /// Records segment `entry` sealed. When its columns hold every listing column, in the same transaction its logs
    /// leave the `logs` rows: their costs go to the segment's costs, its summary to `sealed_segments`. Every record of
    /// the segment must be indexed already (the store seals after indexing what it appended).
    public func sealSegment(_ entry: SegmentEntry, columns block: ColumnBlock) throws {
        guard block.hasListingColumns, let summary = SegmentSummary(block) else { return try upsertSegment(entry) }
        let names = Names(
            accounts: summary.accounts.sorted(), gateways: summary.gateways.sorted(),
            providers: summary.providers.sorted(), models: summary.models.sorted())
        let namesJSON = String(decoding: try JSONEncoder().encode(names), as: UTF8.self)
        let costs = try write { db in
            try db.transaction { () throws -> SegmentCosts in
                try Self.upsertSegment(entry, in: db)
                var byOffset: [UInt64: (cost: Int64?, saved: Int64?)] = [:]
                for row in try db.query(
                    NamedQueries.sql("sealed_segment_log_costs"), [.integer(Int64(entry.seq))],
                    row: { (UInt64(bitPattern: $0.int64(at: 0)), $0.optionalInt64(at: 1), $0.optionalInt64(at: 2)) })
                {
                    byOffset[row.0] = (row.1, row.2)
                }
                var costs = SegmentCosts(rows: block.count)
                for row in 0..<block.count {
                    guard let priced = byOffset[block.offsets[row]] else { continue }
                    costs.cost[row] = priced.cost
                    costs.saved[row] = priced.saved
                }
                try db.run(
                    NamedQueries.sql("sealed_segment_insert"),
                    [
                        .integer(Int64(entry.seq)), .blob(summary.minID.bytes), .blob(summary.maxID.bytes),
                        .integer(Int64(summary.logs)), .text(namesJSON), .blob(costs.encoded()),
                    ])
                try db.run(NamedQueries.sql("sealed_segment_logs_delete"), [.integer(Int64(entry.seq))])
                return costs
            }
        }
        sealedLogs.set(SealedLogs.Segment(summary: summary, costs: costs))
    }

    /// A compacted segment's rewritten file is in place: its decoded columns are forgotten and, for a segment that
    /// answers for its logs, the tombstones of the logs that became usage records (`purged`) go now (a crash before
    /// leaves them to the next pass, which finds nothing to purge and forgets them).
    public func sealedSegmentRewritten(_ seq: UInt32, purged: [LogKey]) throws {
        sealedLogs.listing.forget(seq)
        guard sealedLogs.segment(seq) != nil, !purged.isEmpty else { return }
        try write { db in try db.transaction { try forgetTombstones(purged, segment: seq, in: db) } }
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
                guard let summary = self.sealedLogs.segment(seq)?.summary else { return [:] }
                let found = try self.annotations(account: query.account, from: summary.minID, to: summary.maxID)
                annotationsBySegment[seq] = found
                return found
            })
        var costsBySegment: [UInt32: SegmentCosts] = [:]
        for seq in Set(rows.map(\.columns.block.segment)) { costsBySegment[seq] = sealedLogs.segment(seq)?.costs }
        return rows.map { row in
            let seq = row.columns.block.segment
            let priced = costsBySegment[seq].flatMap {
                row.row < $0.cost.count ? ($0.cost[row.row], $0.saved[row.row]) : nil
            }
            return LogIndexEntry(
                columns: row.columns.block, row: row.row, cost: priced?.0, saved: priced?.1,
                annotation: annotationsBySegment[seq]?[row.id])
        }
    }

    /// A log of `account` in a sealed segment, by id: its entry (nil when it is not there, is deleted or is a usage
    /// record).
    func sealedEntry(account: String, id: LogID) throws -> LogIndexEntry? {
        for seq in sealedLogs.segments(holding: id) {
            let columns = try sealedLogs.listing.columns(of: seq)
            let block = columns.block
            let position = columns.firstPosition(notBelow: id)
            guard position < block.count else { continue }
            let row = Int(columns.idOrder[position])
            guard block.ids[row] == id, block.flags(.logged)[row], block.strings(.account)[row] == account else {
                continue
            }
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
            let costs = sealedLogs.segment(seq)?.costs
            return LogIndexEntry(
                columns: block, row: row, cost: costs.flatMap { row < $0.cost.count ? $0.cost[row] : nil },
                saved: costs.flatMap { row < $0.saved.count ? $0.saved[row] : nil },
                annotation: annotation.flatMap { $0.isEmpty ? nil : $0 })
        }
        return nil
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
