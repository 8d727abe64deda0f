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
