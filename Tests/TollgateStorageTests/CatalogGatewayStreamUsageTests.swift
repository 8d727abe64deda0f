import Testing

@testable import TollgateStorage

@Suite("Catalog: gateway stream_usage")
struct CatalogGatewayStreamUsageTests {
    @Test func onByDefaultStoredAtCreationAndUpdatable() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            #expect(try catalog.gateway(account: "default", id: "default")?.streamUsage == true)
            let plain = try catalog.createGateway(account: "default", id: "plain", streamUsage: false)
            #expect(!plain.streamUsage)
            #expect(try catalog.gateway(account: "default", id: "plain")?.streamUsage == false)

            let on = try #require(try catalog.updateGateway(account: "default", id: "plain", streamUsage: true))
            #expect(on.streamUsage)
            #expect(on.collectLogs)
            let off = try #require(try catalog.updateGateway(account: "default", id: "plain", collectLogs: false))
            #expect(off.streamUsage && !off.collectLogs)
            #expect(try catalog.updateGateway(account: "default", id: "nope", streamUsage: false) == nil)
            #expect(try catalog.allGateways().map(\.streamUsage) == [true, true])
        }
    }

    @Test func migrationTurnsItOnForExistingGateways() throws {
        try withTemporaryCatalogDirectory { dir in
            let connection = try SQLiteConnection(path: dir + "/catalog.sqlite")
            let before = Migrations.all.filter { $0.name < "0004" }
            _ = try SQLiteMigrator(migrations: before).migrate(connection)
            try connection.execute(
                "INSERT INTO gateways (account, id, collect_logs, created_at) VALUES ('default', 'old', 0, 1)")
            let applied = try SQLiteMigrator().migrate(connection)
            #expect(applied.contains("0004_gateway_stream_usage"))
            let values = try connection.query("SELECT id, stream_usage FROM gateways ORDER BY id") {
                ($0.string(at: 0), $0.int64(at: 1))
            }
            #expect(values.map(\.0) == ["default", "old"])
            #expect(values.map(\.1) == [1, 1])
        }
    }
}
