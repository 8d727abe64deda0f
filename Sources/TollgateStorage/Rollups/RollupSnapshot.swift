/// What a rollup read sees: one snapshot of the series dictionary and the chunks, held for the length of
/// `RollupStore.read` (a checkpoint may add or compact parts meanwhile; the snapshot does not see it).
///
/// Valid only inside the closure it is given to.
public struct RollupSnapshot {
    let connection: SQLiteConnection
    let versions: RollupChunkVersions
    /// `versions.sequence` before the snapshot began.
    let noted: UInt64

    /// The version of `chunk` when what this snapshot holds of it is what it held when it last got that version (no
    /// write of it under way, none committed since the snapshot began): a decoded copy of it at that version may be
    /// used instead of reading it. nil when it cannot be told.
    public func settledVersion(of chunk: RollupChunkKey) -> UInt64? {
        versions.settledVersion(of: chunk, noted: noted)
    }

    /// The series of `account`, by id.
    public func series(account: String) throws -> [RollupSeriesRecord] {
        try connection.query(NamedQueries.sql("rollup_series_of_account"), [.text(account)]) { row in
            RollupSeriesRecord(
                id: row.int64(at: 0), account: account, gateway: row.string(at: 1), provider: row.string(at: 2),
                model: row.string(at: 3), success: row.int64(at: 4) != 0, cached: row.int64(at: 5) != 0,
                priced: row.int64(at: 6) != 0, refusal: row.string(at: 7))
        }
    }

    /// One column (`measure`) of the chunks of `account` at `level` that start in `chunks`, every part, in
    /// (chunk start, part) order.
    public func chunkColumn(
        level: String, account: String, measure: String, chunks: Range<Int64>
    ) throws -> [RollupChunkPart] {
        try RollupStore.chunkColumn(connection, level: level, account: account, measure: measure, chunks: chunks)
    }
}
