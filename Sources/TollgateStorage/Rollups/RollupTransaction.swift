import TollgateModel

/// The writes of one rollup transaction (`RollupStore.write`): everything done through it commits together or not
/// at all.
///
/// Valid only inside the closure it is given to.
public struct RollupTransaction {
    let connection: SQLiteConnection
    let sealed: SealedLogs
    /// The chunks this transaction changes, for the readers' decoded copies.
    let touched: RollupTouchedChunks
    /// Costs of sealed segments' logs changed in this transaction, written by `writeSealedCosts()` at its end.
    private let sealedCosts = SealedCostChanges()

    init(connection: SQLiteConnection, sealed: SealedLogs, touched: RollupTouchedChunks) {
        self.connection = connection
        self.sealed = sealed
        self.touched = touched
    }

    private final class SealedCostChanges {
        var bySegment: [UInt32: SegmentCosts] = [:]
    }

    /// Adds a series to the dictionary.
    public func insertSeries(_ series: RollupSeriesRecord) throws {
        try connection.run(
            NamedQueries.sql("rollup_series_insert"),
            [
                .integer(series.id), .text(series.account), .text(series.gateway), .text(series.provider),
                .text(series.model), .bool(series.success), .bool(series.cached), .bool(series.priced),
                .text(series.refusal),
            ])
    }

    /// The highest part number of a chunk and how many parts it has ((-1, 0) for a chunk not stored yet).
    public func parts(of chunk: RollupChunkKey) throws -> (maxPart: Int64, count: Int) {
        try connection.queryFirst(
            NamedQueries.sql("rollup_chunk_parts"),
            [.text(chunk.level), .text(chunk.account), .integer(chunk.chunkStart)]
        ) { (maxPart: $0.int64(at: 0), count: Int($0.int64(at: 1))) } ?? (-1, 0)
    }

    /// One column (`measure`) of the chunks of `account` at `level` that start in `chunks`, every part, in
    /// (chunk start, part) order.
    public func chunkColumn(
        level: String, account: String, measure: String, chunks: Range<Int64>
    ) throws -> [RollupChunkPart] {
        try RollupStore.chunkColumn(connection, level: level, account: account, measure: measure, chunks: chunks)
    }

    /// Stores one column of one part of a chunk, in rows of a piece each (`RollupChunkPieces`).
    public func insertColumn(_ data: [UInt8], measure: String, of chunk: RollupChunkKey, part: Int64) throws {
        touched.touch(chunk)
        let keyText = chunk.level.utf8.count + chunk.account.utf8.count + measure.utf8.count
        let pieces = RollupChunkPieces.pieces(of: data, pieceBytes: RollupChunkPieces.pieceBytes(keyText: keyText))
        for (index, piece) in pieces.enumerated() {
            try connection.run(
                NamedQueries.sql("rollup_chunk_insert"),
                [
                    .text(chunk.level), .text(chunk.account), .text(measure), .integer(chunk.chunkStart),
                    .integer(part), .integer(Int64(index)), .blob(Array(piece)),
                ])
        }
    }

    /// Deletes one column of a chunk: every part, or with `deltasOnly` every part but the base (part 0).
    public func deleteColumn(measure: String, of chunk: RollupChunkKey, deltasOnly: Bool) throws {
        touched.touch(chunk)
        try connection.run(
            NamedQueries.sql(deltasOnly ? "rollup_chunk_delete_deltas" : "rollup_chunk_delete"),
            [.text(chunk.level), .text(chunk.account), .text(measure), .integer(chunk.chunkStart)])
    }

    /// The chunks stored in more than one part.
    public func chunksWithParts() throws -> [RollupChunkKey] {
        try connection.query(NamedQueries.sql("rollup_chunks_with_parts")) {
            RollupChunkKey(level: $0.string(at: 0), account: $0.string(at: 1), chunkStart: $0.int64(at: 2))
        }
    }

    /// Records the position the rollups now cover, checkpointed at `time` (Unix ms).
    public func setWatermark(_ position: RollupStorePosition, at time: Int64) throws {
        try connection.run(
            NamedQueries.sql("rollup_watermark_set"),
            [.integer(Int64(position.segment)), .integer(Int64(bitPattern: position.offset)), .integer(time)])
    }

    /// Sets the cost (picodollars; nil = unpriced) of one log in the index: repricing moves a log's cost and the
    /// rollups that count it in one transaction.
    public func setLogCost(account: String, id: LogID, cost: Int64?) throws {
        try connection.run(NamedQueries.sql("reprice_update"), [.text(account), .blob(id.bytes), .integer(cost)])
        guard connection.changes == 0 else { return }
        // Not in the `logs` rows: a log of a segment that answers for its logs (sealed, or being written), whose
        // costs are one value per row.
        for seq in sealed.segments(holding: id) {
            let columns = try sealed.columns(of: seq)
            let position = columns.firstPosition(notBelow: id)
            guard position < columns.block.count else { continue }
            let row = Int(columns.idOrder[position])
            guard columns.block.ids[row] == id, columns.block.strings(.account)[row] == account,
                var costs = try sealedCosts.bySegment[seq] ?? sealed.costs(of: seq, in: connection),
                row < costs.cost.count
            else { continue }
            costs.cost[row] = cost
            sealedCosts.bySegment[seq] = costs
            return
        }
    }

    /// Writes the sealed segments' costs changed by `setLogCost`; returns them, and those of segments being
    /// written (kept in memory only: recovery prices their logs again), for the catalog's memory.
    func writeSealedCosts() throws -> [UInt32: SegmentCosts] {
        for (seq, costs) in sealedCosts.bySegment where sealed.segment(seq) != nil {
            try connection.run(
                NamedQueries.sql("sealed_segment_costs_update"),
                [.integer(Int64(seq)), .blob(EncodedSegmentCosts(costs).bytes)])
        }
        return sealedCosts.bySegment
    }
}
