import Testing
import TollgateModel

@testable import TollgateStorage

@Suite("Catalog: log names dictionary (0015)")
struct CatalogLogNamesTests {
    /// Rows as the schema before 0015 held them: gateway, provider and model as text in every row.
    private static let oldInsert = """
        INSERT INTO logs (
            account, id, gateway, provider, model, created_at, method, path, status_code, success, stream,
            duration_us, ttft_us, tokens_in, tokens_out, request_size, response_size, metadata, payload_stored,
            segment, segment_offset, record_length, cost, event_id)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'POST', '/chat/completions', ?7, ?8, 0, 1500, NULL, ?9, ?10, 100, 200, ?11,
                1, ?12, ?13, 64, ?14, ?15)
        """

    private struct OldRow {
        var id: LogID
        var gateway: String
        var provider: String
        var model: String?
        var status: Int64
        var cost: Int64?
        var eventID: String?
    }

    @Test func migrationKeepsEveryLogAndItsFilters() throws {
        try withTemporaryCatalogDirectory { dir in
            let generator = LogIDGenerator()
            let start: Int64 = 1_750_000_000_000
            var rows: [OldRow] = []
            for i in 0..<30 {
                rows.append(
                    OldRow(
                        id: generator.next(millisecondsSinceEpoch: start + Int64(i)),
                        gateway: ["default", "prod"][i % 2], provider: ["openai", "anthropic", "default"][i % 3],
                        model: i % 5 == 0 ? nil : ["gpt-4o", "claude-sonnet-4"][i % 2], status: i % 7 == 0 ? 500 : 200,
                        cost: i % 4 == 0 ? nil : Int64(i * 1_000), eventID: i == 3 ? "ev-1" : nil))
            }
            do {
                let connection = try SQLiteConnection(path: dir + "/catalog.sqlite")
                _ = try SQLiteMigrator(migrations: Migrations.all.filter { $0.name < "0015" }).migrate(connection)
                for (i, row) in rows.enumerated() {
                    try connection.run(
                        Self.oldInsert,
                        [
                            .text("default"), .blob(row.id.bytes), .text(row.gateway), .text(row.provider),
                            .text(row.model), .integer(row.id.milliseconds), .integer(row.status),
                            .bool(row.status == 200), .integer(Int64(i)), .integer(Int64(2 * i)),
                            .text(i == 1 ? #"{"user":"u1"}"# : nil), .integer(Int64(i / 10)),
                            .integer(Int64(i % 10) * 64), .integer(row.cost), .text(row.eventID),
                        ])
                }
                let applied = try SQLiteMigrator().migrate(connection)
                #expect(
                    applied == [
                        "0015_log_names", "0016_sealed_segments", "0017_logs_counted", "0018_sealed_segment_blocks",
                        "0019_rollup_chunk_pieces",
                    ])
                let names = try connection.query("SELECT name FROM log_names ORDER BY id") { $0.string(at: 0) }
                #expect(names == ["anthropic", "claude-sonnet-4", "default", "gpt-4o", "openai", "prod"])
                let indexes = try connection.query(
                    "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'logs' AND sql IS NOT NULL"
                        + " ORDER BY name"
                ) { $0.string(at: 0) }
                #expect(
                    indexes == [
                        "logs_by_event", "logs_by_gateway", "logs_by_location", "logs_by_model", "logs_by_provider",
                    ])
            }

            let catalog = try Catalog(dataDirectory: dir)
            for (i, row) in rows.enumerated() {
                let entry = try #require(try catalog.logEntry(account: "default", id: row.id))
                #expect(entry.gateway == row.gateway)
                #expect(entry.provider == row.provider)
                #expect(entry.model == row.model)
                #expect(entry.statusCode == Int(row.status))
                #expect(entry.cost == row.cost)
                #expect(entry.eventID == row.eventID)
                #expect(entry.usage.tokensOut == Int64(2 * i))
                #expect(
                    entry.location == RecordLocation(segment: UInt32(i / 10), offset: UInt64(i % 10) * 64, length: 64))
                #expect(entry.metadata == (i == 1 ? [MetadataEntry("user", .string("u1"))] : []))
            }

            func listed(_ query: LogQuery) throws -> [LogID] {
                var ids: [LogID] = []
                var query = query
                query.limit = 4
                while true {
                    let page = try catalog.listLogs(query)
                    ids += page.entries.map(\.id)
                    guard let cursor = page.nextCursor else { return ids }
                    query.cursor = cursor
                }
            }
            let newest = rows.reversed()
            #expect(try listed(LogQuery(account: "default")) == newest.map(\.id))
            #expect(
                try listed(LogQuery(account: "default", model: "gpt-4o"))
                    == newest.filter { $0.model == "gpt-4o" }.map(\.id))
            #expect(
                try listed(LogQuery(account: "default", gateway: "prod", order: .ascending))
                    == rows.filter { $0.gateway == "prod" }.map(\.id))
            #expect(
                try listed(LogQuery(account: "default", provider: "default", statusCode: 500))
                    == newest.filter { $0.provider == "default" && $0.status == 500 }.map(\.id))
            // A name used as a gateway is no match for a provider filter of another name, and an unknown name matches
            // nothing.
            #expect(try listed(LogQuery(account: "default", provider: "prod")).isEmpty)
            #expect(try listed(LogQuery(account: "default", model: "no-such-model")).isEmpty)

            // New logs after the migration: a known name and a new one.
            let later = generator.next(millisecondsSinceEpoch: start + 100)
            try catalog.insertLogs([
                LogIndexEntry(
                    id: later, createdAt: later.milliseconds, account: "default", gateway: "prod", provider: "mistral",
                    model: "mistral-large", method: "POST", path: "/v1/chat/completions", statusCode: 200,
                    success: true,
                    stream: false, durationMicros: 900, ttftMicros: nil, requestSize: 10, responseSize: 20,
                    location: RecordLocation(segment: 9, offset: 0, length: 64))
            ])
            #expect(try listed(LogQuery(account: "default", model: "mistral-large")) == [later])
            #expect(try listed(LogQuery(account: "default", gateway: "prod")).first == later)
            #expect(try catalog.logEntry(account: "default", id: later)?.provider == "mistral")

            // Deleting by a filter on a name.
            let deleted = try catalog.deleteLogs(matching: LogQuery(account: "default", provider: "anthropic"))
            #expect(deleted == rows.filter { $0.provider == "anthropic" }.count)
            #expect(try listed(LogQuery(account: "default", provider: "anthropic")).isEmpty)
            #expect(try listed(LogQuery(account: "default")).count == rows.count + 1 - deleted)
        }
    }
}
