import Testing
import TollgateModel

@testable import TollgateStorage

@Suite struct RollupStoreTests {
    private struct Abort: Error {}

    private struct Parts: Equatable {
        var maxPart: Int64
        var count: Int
        init(maxPart: Int64, count: Int) {
            self.maxPart = maxPart
            self.count = count
        }
        init(_ parts: (maxPart: Int64, count: Int)) {
            self.init(maxPart: parts.maxPart, count: parts.count)
        }
    }

    private let day = RollupChunkKey(level: "day", account: "default", chunkStart: 1_750_000_000_000)

    private func series(_ id: Int64, model: String) -> RollupSeriesRecord {
        RollupSeriesRecord(
            id: id, account: "default", gateway: "default", provider: "openai", model: model, success: id % 2 == 0,
            cached: false, priced: id % 3 != 0)
    }

    @Test func seriesAndWatermarkComeBackAsWritten() throws {
        try withTemporaryCatalogDirectory { dir in
            let store = RollupStore(catalog: try Catalog(dataDirectory: dir))
            #expect(try store.allSeries().isEmpty)
            #expect(try store.watermark() == nil)
            try store.write { transaction in
                try transaction.insertSeries(series(1, model: "gpt-4o"))
                try transaction.insertSeries(series(2, model: "o3"))
                try transaction.insertSeries(
                    RollupSeriesRecord(
                        id: 3, account: "other", gateway: "g", provider: "anthropic", model: "", success: true,
                        cached: true, priced: false))
                try transaction.setWatermark(RollupStorePosition(segment: 7, offset: UInt64.max - 1), at: 42)
            }
            #expect(try store.allSeries().map(\.id) == [1, 2, 3])
            #expect(try store.allSeries()[2].cached)
            #expect(try store.watermark() == RollupStorePosition(segment: 7, offset: UInt64.max - 1))
            let ofDefault = try store.read { try $0.series(account: "default") }
            #expect(ofDefault == [series(1, model: "gpt-4o"), series(2, model: "o3")])
        }
    }

    @Test func chunkPartsAreCountedReadInOrderAndDeleted() throws {
        try withTemporaryCatalogDirectory { dir in
            let store = RollupStore(catalog: try Catalog(dataDirectory: dir))
            let next = RollupChunkKey(level: day.level, account: day.account, chunkStart: day.chunkStart + 10)
            try store.write { transaction in
                #expect(try Parts(transaction.parts(of: day)) == Parts(maxPart: -1, count: 0))
                for part in Int64(0)..<3 {
                    try transaction.insertColumn([UInt8(part)], measure: "bucket", of: day, part: part)
                    try transaction.insertColumn([UInt8(part), 9], measure: "requests", of: day, part: part)
                }
                try transaction.insertColumn([7], measure: "bucket", of: next, part: 0)
                #expect(try Parts(transaction.parts(of: day)) == Parts(maxPart: 2, count: 3))
                #expect(try transaction.chunksWithParts() == [day])
            }
            let read = try store.read {
                try $0.chunkColumn(
                    level: "day", account: "default", measure: "requests",
                    chunks: day.chunkStart..<(next.chunkStart + 1))
            }
            #expect(read.map(\.part) == [0, 1, 2])
            #expect(read.map(\.data) == [[0, 9], [1, 9], [2, 9]])
            let both = try store.read {
                try $0.chunkColumn(
                    level: "day", account: "default", measure: "bucket", chunks: day.chunkStart..<(next.chunkStart + 1))
            }
            #expect(both.map(\.chunkStart) == [day.chunkStart, day.chunkStart, day.chunkStart, next.chunkStart])

            try store.write { transaction in
                try transaction.deleteColumn(measure: "bucket", of: day, deltasOnly: true)
                #expect(try Parts(transaction.parts(of: day)) == Parts(maxPart: 0, count: 1))
                try transaction.deleteColumn(measure: "bucket", of: day, deltasOnly: false)
                #expect(try Parts(transaction.parts(of: day)) == Parts(maxPart: -1, count: 0))
            }
            try store.reset()
            #expect(
                try store.read {
                    try $0.chunkColumn(level: "day", account: "default", measure: "bucket", chunks: 0..<Int64.max)
                }.isEmpty)
        }
    }

    /// A column longer than a piece is stored in several rows, each small enough to sit whole in a leaf page, and
    /// read back whole; parts are counted as parts, not rows; deleting a part deletes all its pieces.
    @Test func longColumnsAreStoredInPiecesAndReadBackWhole() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            let store = RollupStore(catalog: catalog)
            let pieceBytes = RollupChunkPieces.pieceBytes(keyText: "day".utf8.count + "default".utf8.count + 6)
            let long = (0..<(pieceBytes * 5 + 17)).map { UInt8(truncatingIfNeeded: $0 * 7) }
            try store.write { transaction in
                try transaction.insertColumn(long, measure: "bucket", of: day, part: 0)
                try transaction.insertColumn(Array(long.prefix(pieceBytes)), measure: "bucket", of: day, part: 1)
                try transaction.insertColumn([], measure: "bucket", of: day, part: 2)
                #expect(try Parts(transaction.parts(of: day)) == Parts(maxPart: 2, count: 3))
                #expect(try transaction.chunksWithParts() == [day])
            }
            let read = try store.read {
                try $0.chunkColumn(level: "day", account: "default", measure: "bucket", chunks: 0..<Int64.max)
            }
            #expect(read.map(\.part) == [0, 1, 2])
            #expect(read.map(\.data) == [long, Array(long.prefix(pieceBytes)), []])
            let rows = try catalog.read { db in
                try db.query("SELECT part, count(*), max(length(data)) FROM rollup_chunks GROUP BY part ORDER BY part")
                {
                    [$0.int64(at: 0), $0.int64(at: 1), $0.int64(at: 2)]
                }
            }
            #expect(rows == [[0, 6, Int64(pieceBytes)], [1, 1, Int64(pieceBytes)], [2, 1, 0]])
            // Every row fits a leaf page: none spilled to an overflow page.
            let overflow = try catalog.read { db in
                try db.queryFirst("SELECT count(*) FROM dbstat WHERE name = 'rollup_chunks' AND pagetype = 'overflow'")
                {
                    $0.int64(at: 0)
                }
            }
            #expect(overflow == 0)
            try store.write { transaction in
                try transaction.deleteColumn(measure: "bucket", of: day, deltasOnly: true)
                #expect(try Parts(transaction.parts(of: day)) == Parts(maxPart: 0, count: 1))
            }
            let base = try store.read {
                try $0.chunkColumn(level: "day", account: "default", measure: "bucket", chunks: 0..<Int64.max)
            }
            #expect(base.map(\.data) == [long])
        }
    }

    /// Columns written before migration 0019 (one row each, however long) are read as they were.
    @Test func columnsStoredWholeBeforeThePiecesMigrationReadBack() throws {
        try withTemporaryCatalogDirectory { dir in
            let long = (0..<5_000).map { UInt8(truncatingIfNeeded: $0 * 13) }
            do {
                let connection = try SQLiteConnection(path: dir + "/catalog.sqlite")
                _ = try SQLiteMigrator(migrations: Migrations.all.filter { $0.name < "0019" }).migrate(connection)
                for (part, data) in [(Int64(0), long), (1, [1, 2, 3])] {
                    try connection.run(
                        "INSERT INTO rollup_chunks (level, account, measure, chunk_start, part, data)"
                            + " VALUES ('day', 'default', 'bucket', ?1, ?2, ?3)",
                        [.integer(day.chunkStart), .integer(part), .blob(data)])
                }
            }
            let store = RollupStore(catalog: try Catalog(dataDirectory: dir))
            let read = try store.read {
                try $0.chunkColumn(level: "day", account: "default", measure: "bucket", chunks: 0..<Int64.max)
            }
            #expect(read.map(\.data) == [long, [1, 2, 3]])
            let parts = try store.write { try Parts($0.parts(of: day)) }
            #expect(parts == Parts(maxPart: 1, count: 2))
        }
    }

    @Test func aTransactionThatThrowsLeavesNothing() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            let generator = LogIDGenerator()
            let id = generator.next(millisecondsSinceEpoch: 1_750_000_000_000)
            try catalog.insertLogs([
                LogIndexEntry(
                    id: id, createdAt: id.milliseconds, account: "default", gateway: "default", provider: "openai",
                    model: "gpt-4o", method: "POST", path: "/chat/completions", statusCode: 200, success: true,
                    stream: false, durationMicros: 1000, ttftMicros: nil, usage: Usage(tokensIn: 1, tokensOut: 2),
                    requestSize: 10, responseSize: 20, cost: 5,
                    location: RecordLocation(segment: 0, offset: 0, length: 64))
            ])
            let store = RollupStore(catalog: catalog)
            #expect(throws: Abort.self) {
                try store.write { transaction in
                    try transaction.setLogCost(account: "default", id: id, cost: 99)
                    try transaction.insertSeries(series(1, model: "gpt-4o"))
                    try transaction.insertColumn([1], measure: "bucket", of: day, part: 0)
                    try transaction.setWatermark(RollupStorePosition(segment: 1, offset: 2), at: 3)
                    throw Abort()
                }
            }
            #expect(try catalog.logEntry(account: "default", id: id)?.cost == 5)
            #expect(try store.allSeries().isEmpty)
            #expect(try store.watermark() == nil)

            try store.write { try $0.setLogCost(account: "default", id: id, cost: nil) }
            #expect(try catalog.logEntry(account: "default", id: id)?.cost == nil)
        }
    }

    /// A chunk is settled for a snapshot (its decoded copy may stand for it) only when no write of it is under way
    /// and its last write ended before the snapshot began; a write of one chunk leaves the others settled; a reset
    /// unsettles every chunk; another store of the same catalog file sees the same versions.
    @Test func chunksAreSettledOnlyForSnapshotsBegunAfterTheirLastWrite() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            let store = RollupStore(catalog: catalog)
            let other = RollupStore(catalog: try Catalog(dataDirectory: dir))
            #expect(other.versions === store.versions)
            let next = RollupChunkKey(level: day.level, account: day.account, chunkStart: day.chunkStart + 10)
            let before = try store.read { snapshot in snapshot.settledVersion(of: day) }
            #expect(before != nil)

            try store.write { transaction in
                try transaction.insertColumn([1], measure: "bucket", of: day, part: 0)
                // Under way: not settled for any snapshot, even one begun now; the other chunk is.
                #expect(store.versions.settledVersion(of: day, noted: .max) == nil)
                #expect(store.versions.settledVersion(of: next, noted: .max) == before)
            }
            let written = try #require(try other.read { $0.settledVersion(of: day) })
            #expect(written != before)
            #expect(try store.read { $0.settledVersion(of: next) } == before)
            // A snapshot noted before the write ended cannot tell.
            #expect(store.versions.settledVersion(of: day, noted: written - 1) == nil)

            // A transaction that throws still changes the version (it only costs a decode).
            struct Abort: Error {}
            #expect(throws: Abort.self) {
                try store.write { transaction in
                    try transaction.deleteColumn(measure: "bucket", of: day, deltasOnly: false)
                    throw Abort()
                }
            }
            let rolledBack = try #require(try store.read { $0.settledVersion(of: day) })
            #expect(rolledBack > written)

            try other.reset()
            let reset = try #require(try store.read { $0.settledVersion(of: next) })
            #expect(reset > rolledBack)
            #expect(try store.read { $0.settledVersion(of: day) } == reset)
        }
    }
}
