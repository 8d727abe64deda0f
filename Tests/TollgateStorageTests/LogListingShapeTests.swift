import Testing
import TollgateModel

@testable import TollgateStorage

/// The listing statement is made from `Queries/logs_list.sql` for each filter shape: every shape, both orders, with
/// and without a cursor, lists what a plain filter over the entries gives.
@Suite struct LogListingShapeTests {
    @Test func templateKeepsTheLinesWhoseConditionsHold() {
        let shape = Catalog.ListShape(gateway: true, model: true, cursor: true, ascending: false)
        let sql = Catalog.listSQL(shape)
        #expect(sql.contains("FROM logs INDEXED BY logs_by_model\n"))
        #expect(!sql.contains("logs_by_gateway"))
        #expect(sql.contains("AND gateway = ?\n") && sql.contains("AND model = ?\n"))
        #expect(!sql.contains("provider = ?") && !sql.contains("status_code = ?"))
        #expect(sql.contains("AND id < ?\n") && !sql.contains("AND id > ?"))
        #expect(sql.hasSuffix("ORDER BY id DESC LIMIT ?\n"))
        #expect(!sql.contains("-- when"))
    }

    @Test func everyShapeListsWhatAPlainFilterGives() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            let generator = LogIDGenerator()
            let start: Int64 = 1_750_000_000_000
            let entries = (0..<40).map { i in
                let id = generator.next(millisecondsSinceEpoch: start + Int64(i))
                return LogIndexEntry(
                    id: id, createdAt: id.milliseconds, account: "default", gateway: ["a", "b"][i % 2],
                    provider: ["openai", "anthropic", "groq"][i % 3], model: ["m1", "m2"][(i / 2) % 2], method: "POST",
                    path: "/x", statusCode: i % 5 == 0 ? 500 : 200, success: i % 5 != 0, stream: i % 4 < 2,
                    durationMicros: 1, ttftMicros: nil, requestSize: 1, responseSize: 1,
                    location: RecordLocation(segment: 0, offset: UInt64(i) * 64, length: 64))
            }
            try catalog.insertLogs(entries)
            for bits in 0..<(1 << 8) {
                func on(_ bit: Int) -> Bool { bits & (1 << bit) != 0 }
                for order in [LogQuery.Order.ascending, .descending] {
                    let query = LogQuery(
                        account: "default", gateway: on(0) ? "a" : nil, provider: on(1) ? "openai" : nil,
                        model: on(2) ? "m1" : nil, statusCode: on(3) ? 200 : nil, success: on(4) ? true : nil,
                        stream: on(5) ? true : nil, from: on(6) ? start + 5 : nil, to: on(7) ? start + 35 : nil,
                        order: order, limit: 2)
                    var expected = entries.filter { e in
                        (query.gateway.map { e.gateway == $0 } ?? true)
                            && (query.provider.map { e.provider == $0 } ?? true)
                            && (query.model.map { e.model == $0 } ?? true)
                            && (query.statusCode.map { e.statusCode == $0 } ?? true)
                            && (query.success.map { e.success == $0 } ?? true)
                            && (query.stream.map { e.stream == $0 } ?? true)
                            && (query.from.map { e.createdAt >= $0 } ?? true)
                            && (query.to.map { e.createdAt < $0 } ?? true)
                    }.map(\.id)
                    if order == .descending { expected.reverse() }
                    var listed: [LogID] = []
                    var page = try catalog.listLogs(query)
                    listed += page.entries.map(\.id)
                    while let cursor = page.nextCursor {
                        var next = query
                        next.cursor = cursor
                        page = try catalog.listLogs(next)
                        listed += page.entries.map(\.id)
                    }
                    #expect(listed == expected, "filters \(bits), \(order)")
                }
            }
        }
    }
}
