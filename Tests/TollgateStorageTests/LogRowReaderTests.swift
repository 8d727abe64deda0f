import Testing
import TollgateModel

@testable import TollgateStorage

/// The columns of a log row are written once (`Queries/log_row_columns.sql`) and read once (`LogRowReader`): every
/// statement that reads log rows selects them, by name and in the reader's order.
@Suite struct LogRowReaderTests {
    /// The statements reading log rows: one log, repricing's and export's pages, and the listing in every shape
    /// that changes its FROM (each index named, none) and with every filter.
    static func statements() -> [(name: String, sql: String)] {
        let shapes: [(String, Catalog.ListShape)] = [
            ("logs_list", Catalog.ListShape()),
            ("logs_list model", Catalog.ListShape(model: true, ascending: true)),
            ("logs_list gateway", Catalog.ListShape(gateway: true, cursor: true)),
            ("logs_list provider", Catalog.ListShape(provider: true)),
            (
                "logs_list every filter",
                Catalog.ListShape(
                    gateway: true, provider: true, model: true, statusCode: true, success: true, stream: true,
                    cached: true, feedback: true, eventID: true, metadata: true, from: true, to: true, cursor: true)
            ),
        ]
        return ["log_get", "reprice_page", "export_logs"].map { ($0, NamedQueries.sql($0)) }
            + shapes.map { ($0.0, Catalog.listSQL($0.1)) }
    }

    @Test func everyStatementSelectsTheColumnsTheReaderReads() throws {
        let expected = LogRowReader.Column.allCases.map(\.sqlName)
        #expect(expected.count == 37)
        #expect(expected.contains("cache_write_1h_tokens") && expected.contains("annotation_metadata"))
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            for (name, sql) in Self.statements() {
                let columns = try catalog.read { db in
                    let statement = try db.prepare(sql)
                    return (0..<statement.columnCount).map { statement.columnName(at: $0) }
                }
                #expect(columns == expected, "\(name)")
            }
        }
    }

    @Test func includesAreReplacedByThePartsLines() {
        for name in EmbeddedSQL.queries.keys {
            #expect(!NamedQueries.sql(name).split(separator: "\n").contains { $0.hasPrefix("-- include") }, "\(name)")
        }
        let expanded = NamedQueries.expand("-- a statement\n-- include log_row_columns\nFROM logs AS l\n")
        #expect(expanded.hasPrefix("-- a statement\nSELECT l.id, l.gateway,"))
        #expect(expanded.hasSuffix(" a.metadata AS annotation_metadata\nFROM logs AS l\n"))
        #expect(!expanded.contains("Not a statement"))
        #expect(NamedQueries.expand("SELECT 1") == "SELECT 1")
    }

    /// A row naming a gateway, provider or model added after the catalog copied `log_names` reads it again; every
    /// reading statement gives the entry as inserted.
    @Test func rowsReadTheirNamesAndEveryColumn() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            let generator = LogIDGenerator()
            let start: Int64 = 1_750_000_000_000
            func entry(_ i: Int, gateway: String, model: String?) -> LogIndexEntry {
                let id = generator.next(millisecondsSinceEpoch: start + Int64(i))
                return LogIndexEntry(
                    id: id, createdAt: id.milliseconds, account: "default", gateway: gateway,
                    provider: "provider-\(i)", model: model, method: "POST", path: "/p/\(i)", statusCode: 200 + i,
                    success: i % 2 == 0, stream: i % 3 == 0, durationMicros: Int64(1000 + i),
                    ttftMicros: i % 2 == 0 ? nil : Int64(i),
                    usage: Usage(
                        tokensIn: Int64(i), cachedTokensIn: nil, cacheWriteTokens: 3, cacheWrite1hTokens: 4,
                        tokensOut: 5, reasoningTokens: i % 2 == 0 ? nil : 6, serviceTier: i % 2 == 0 ? nil : "flex"),
                    requestSize: Int64(10 + i), responseSize: Int64(20 + i), error: i % 2 == 0 ? nil : "e\(i)",
                    metadata: i % 2 == 0 ? [] : [MetadataEntry("k", .string("v\(i)"))], payloadStored: i % 2 == 0,
                    cost: i % 3 == 0 ? nil : Int64(100 * i), customCost: i == 1,
                    location: RecordLocation(segment: UInt32(i), offset: UInt64(i) * 64, length: 64),
                    eventID: i == 2 ? "event" : nil, attempt: i == 2 ? 3 : 1, step: i == 3 ? 1 : nil,
                    cached: false, saved: nil)
            }
            let first = entry(0, gateway: "g0", model: "m0")
            try catalog.insertLogs([first])
            #expect(try catalog.logEntry(account: "default", id: first.id) == first)
            // New names after the copy was made.
            let later = (1..<4).map { entry($0, gateway: "g\($0)", model: $0 == 2 ? nil : "m\($0)") }
            try catalog.insertLogs(later)
            var all = [first] + later
            all[3].annotation = LogAnnotation(feedback: 1, score: 7, metadata: [MetadataEntry("r", .string("ana"))])
            #expect(try catalog.annotateLog(account: "default", id: all[3].id, all[3].annotation!, at: 1) == all[3])
            for e in all { #expect(try catalog.logEntry(account: "default", id: e.id) == e) }
            let listed = try catalog.listLogs(LogQuery(account: "default", order: .ascending, limit: 10)).entries
            #expect(listed == all)
            let repriced = try catalog.repriceableLogs(
                account: "default", from: start, to: start + 10, after: nil, limit: 10)
            #expect(repriced == all.filter { !$0.customCost })
            // Export reads the same rows without the metadata.
            let exported = try catalog.exportedLogs(
                account: "default", from: start, to: start + 10, after: nil, limit: 10)
            #expect(
                exported
                    == all.map { e in
                        var e = e
                        e.metadata = []
                        e.annotation = e.annotation.map { LogAnnotation(feedback: $0.feedback, score: $0.score) }
                        return e
                    })
        }
    }
}
