/// The usage rollups as the catalog stores them (layout in the analytics target's `Rollup/LAYOUT.md`): the series
/// dictionary, the chunk columns by level, account, measure, chunk start and part, and the watermark of the last
/// checkpoint. Plain values in and out; the SQL is in `Queries/rollup_*.sql`.
///
/// Reads run on the catalog's reader connections, each `read` in one snapshot; writes run in one transaction on
/// its writer.
public final class RollupStore: Sendable {
    let catalog: Catalog
    /// What the writes of this process changed, shared by every store of the catalog file.
    public let versions: RollupChunkVersions

    public init(catalog: Catalog) {
        self.catalog = catalog
        versions = RollupChunkVersions.shared(path: catalog.path)
    }

    /// Every series of the dictionary, by id.
    public func allSeries() throws -> [RollupSeriesRecord] {
        try catalog.read { db in
            try db.query(NamedQueries.sql("rollup_series_all")) { row in
                RollupSeriesRecord(
                    id: row.int64(at: 0), account: row.string(at: 1), gateway: row.string(at: 2),
                    provider: row.string(at: 3), model: row.string(at: 4), success: row.int64(at: 5) != 0,
                    cached: row.int64(at: 6) != 0, priced: row.int64(at: 7) != 0, refusal: row.string(at: 8))
            }
        }
    }

    /// The position of the last checkpoint; nil before the first (or after `reset()`).
    public func watermark() throws -> RollupStorePosition? {
        try catalog.read { db in
            try db.queryFirst(NamedQueries.sql("rollup_watermark_get")) {
                RollupStorePosition(
                    segment: UInt32(truncatingIfNeeded: $0.int64(at: 0)), offset: UInt64(bitPattern: $0.int64(at: 1)))
            }
        }
    }

    /// Runs `body` with one snapshot of the rollups: every read through it sees the same checkpoints.
    public func read<T: Sendable>(_ body: (RollupSnapshot) throws -> T) throws -> T {
        // Noted before the snapshot begins (at its first read): see `RollupChunkVersions`.
        let noted = versions.sequence
        return try catalog.read { db in
            try db.run(NamedQueries.sql("rollup_snapshot_begin"))
            defer { _ = try? db.run(NamedQueries.sql("rollup_snapshot_end")) }
            return try body(RollupSnapshot(connection: db, versions: versions, noted: noted))
        }
    }

    /// Runs `body` in one write transaction: committed when it returns, rolled back when it throws.
    @discardableResult
    public func write<T: Sendable>(_ body: (RollupTransaction) throws -> T) throws -> T {
        let sealed = catalog.sealedLogs
        let touched = RollupTouchedChunks(versions: versions)
        defer { versions.ended(touched.chunks) }
        let (result, costs) = try catalog.write { db in
            try db.transaction { () throws -> (T, [UInt32: SegmentCosts]) in
                let transaction = RollupTransaction(connection: db, sealed: sealed, touched: touched)
                let result = try body(transaction)
                return (result, try transaction.writeSealedCosts())
            }
        }
        // Repriced costs of sealed segments' logs, in memory once their transaction committed.
        for (seq, segmentCosts) in costs { sealed.setCosts(segmentCosts, of: seq) }
        return result
    }

    /// Deletes every chunk, the series dictionary and the watermark, in one transaction.
    public func reset() throws {
        versions.beginWritingAll()
        defer { versions.ended([], all: true) }
        try catalog.write { db in
            try db.transaction {
                try db.run(NamedQueries.sql("rollup_reset_chunks"))
                try db.run(NamedQueries.sql("rollup_reset_series"))
                try db.run(NamedQueries.sql("rollup_reset_watermark"))
            }
        }
    }

    /// One column of an account's chunks, every part, each part's pieces joined (`RollupChunkPieces`).
    static func chunkColumn(
        _ connection: SQLiteConnection, level: String, account: String, measure: String, chunks: Range<Int64>
    ) throws -> [RollupChunkPart] {
        var parts: [RollupChunkPart] = []
        _ = try connection.query(
            NamedQueries.sql("rollup_chunk_read"),
            [.text(level), .text(account), .text(measure), .integer(chunks.lowerBound), .integer(chunks.upperBound)]
        ) { row in
            let (chunkStart, part) = (row.int64(at: 0), row.int64(at: 1))
            if let last = parts.last, last.chunkStart == chunkStart, last.part == part {
                row.appendBlob(at: 2, to: &parts[parts.count - 1].data)
            } else {
                parts.append(RollupChunkPart(chunkStart: chunkStart, part: part, data: row.blob(at: 2)))
            }
        }
        return parts
    }
}
