import CSQLite
import Foundation
import Testing

@testable import TollgateStorage

@Suite("SQLite wrapper")
struct SQLiteTests {
    private func open(_ directory: String, _ options: SQLiteConnection.Options = .init()) throws -> SQLiteConnection {
        try SQLiteConnection(path: directory + "/test.sqlite", options: options)
    }

    @Test func bindsAndReadsEveryTypeByIndex() throws {
        try withTemporaryCatalogDirectory { dir in
            let db = try open(dir)
            try db.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT) STRICT")
            let insert = try db.prepare("INSERT INTO t (i, r, s, b, n) VALUES (?, ?, ?, ?, ?)")
            try insert.bind(Int64.min, at: 1)
            try insert.bind(2.5, at: 2)
            try insert.bind("héllo \u{0} wörld 🚀", at: 3)
            try insert.bind([0, 1, 2, 255] as [UInt8], at: 4)
            try insert.bindNull(at: 5)
            try insert.run()

            let select = try db.prepare("SELECT i, r, s, b, n, typeof(s), length(b) FROM t")
            #expect(try select.step())
            #expect(select.int64(at: 0) == Int64.min)
            #expect(select.double(at: 1) == 2.5)
            #expect(select.string(at: 2) == "héllo \u{0} wörld 🚀")
            #expect(select.blob(at: 3) == [0, 1, 2, 255])
            #expect(select.isNull(at: 4))
            #expect(select.optionalString(at: 4) == nil)
            #expect(select.optionalInt64(at: 4) == nil)
            #expect(select.string(at: 5) == "text")
            #expect(select.int64(at: 6) == 4)
            #expect(select.value(at: 0) == .integer(Int64.min))
            #expect(select.value(at: 4) == .null)
            #expect(try !select.step())
        }
    }

    @Test func emptyStringAndEmptyBlobAreNotNull() throws {
        try withTemporaryCatalogDirectory { dir in
            let db = try open(dir)
            let row = try db.queryFirst("SELECT ?1 IS NULL, typeof(?1), ?2 IS NULL, typeof(?2), length(?2)", [
                .text(""), .blob([]),
            ]) { row in
                [row.int64(at: 0), row.string(at: 1) == "text" ? 1 : 0, row.int64(at: 2), row.string(at: 3) == "blob" ? 1 : 0, row.int64(at: 4)]
            }
            #expect(row == [0, 1, 0, 1, 0])
            let nils = try db.queryFirst("SELECT ?1 IS NULL, ?2 IS NULL, ?3 IS NULL", [
                .integer(nil as Int64?), .text(nil as String?), .null,
            ]) { row in [row.int64(at: 0), row.int64(at: 1), row.int64(at: 2)] }
            #expect(nils == [1, 1, 1])
        }
    }

    @Test func bindsByName() throws {
        try withTemporaryCatalogDirectory { dir in
            let db = try open(dir)
            let statement = try db.prepare("SELECT :a + :b, :name, @blob, $flag")
            try statement.bind(Int64(40), named: ":a")
            try statement.bind(2, named: ":b")
            try statement.bind("tollgate", named: ":name")
            try statement.bind([7, 8] as [UInt8], named: "@blob")
            try statement.bind(true, named: "$flag")
            #expect(try statement.step())
            #expect(statement.int64(at: 0) == 42)
            #expect(statement.string(at: 1) == "tollgate")
            #expect(statement.blob(at: 2) == [7, 8])
            #expect(statement.int64(at: 3) == 1)

            let error = #expect(throws: SQLiteError.self) { try statement.bind("x", named: ":missing") }
            #expect(error?.code == .unknownParameter)
            #expect(error?.sql == "SELECT :a + :b, :name, @blob, $flag")
        }
    }

    @Test func prepareErrorCarriesTheSQL() throws {
        try withTemporaryCatalogDirectory { dir in
            let db = try open(dir)
            let sql = "SELEKT 1 FROM nowhere"
            let error = #expect(throws: SQLiteError.self) { try db.prepare(sql) }
            #expect(error?.code == .library)
            #expect(error?.resultCode == SQLITE_ERROR)
            #expect(error?.sql == sql)
            #expect(error?.message.contains("syntax error") == true)
            #expect(error?.description.contains(sql) == true)
        }
    }

    @Test func constraintErrorCarriesSQLButNotBoundValues() throws {
        try withTemporaryCatalogDirectory { dir in
            let db = try open(dir)
            try db.execute("CREATE TABLE secrets (k TEXT PRIMARY KEY) STRICT")
            let insert = "INSERT INTO secrets (k) VALUES (?1)"
            try db.run(insert, [.text("sk-live-secret-value")])
            let error = #expect(throws: SQLiteError.self) { try db.run(insert, [.text("sk-live-secret-value")]) }
            #expect(error?.code == .constraint)
            #expect(error?.resultCode == 1555)  // SQLITE_CONSTRAINT_PRIMARYKEY: extended codes are on
            #expect(error?.sql == insert)
            #expect(error?.description.contains("sk-live-secret-value") == false)
            // The cached statement is usable again after the failure.
            #expect(try db.run(insert, [.text("another")]) == 1)
        }
    }

    @Test func scriptErrorNamesTheFailingStatement() throws {
        try withTemporaryCatalogDirectory { dir in
            let db = try open(dir)
            let error = #expect(throws: SQLiteError.self) {
                try db.execute("CREATE TABLE a (x INTEGER);\n-- comment\nINSERT INTO missing VALUES (1);\nCREATE TABLE b (y);")
            }
            #expect(error?.sql == "INSERT INTO missing VALUES (1);")
            #expect(error?.message.contains("no such table") == true)
        }
    }

    @Test func opensInWALWithForeignKeysAndBusyTimeout() throws {
        try withTemporaryCatalogDirectory { dir in
            var options = SQLiteConnection.Options()
            options.busyTimeout = .milliseconds(1234)
            let db = try open(dir, options)
            #expect(try db.queryFirst("PRAGMA journal_mode") { $0.string(at: 0) } == "wal")
            #expect(try db.queryFirst("PRAGMA synchronous") { $0.int64(at: 0) } == 1)  // NORMAL
            #expect(try db.queryFirst("PRAGMA foreign_keys") { $0.int64(at: 0) } == 1)
            #expect(try db.queryFirst("PRAGMA busy_timeout") { $0.int64(at: 0) } == 1234)
        }
    }

    @Test func readOnlyConnectionRefusesWritesAndReadsDuringAWrite() throws {
        try withTemporaryCatalogDirectory { dir in
            let writer = try open(dir)
            try writer.execute("CREATE TABLE t (x INTEGER) STRICT; INSERT INTO t VALUES (1);")
            var options = SQLiteConnection.Options()
            options.readOnly = true
            let reader = try open(dir, options)
            let error = #expect(throws: SQLiteError.self) { try reader.run("INSERT INTO t VALUES (2)") }
            #expect(error?.resultCode == SQLITE_READONLY)

            try writer.transaction {
                try writer.run("INSERT INTO t VALUES (2)")
                // WAL: the reader is not blocked by the open write transaction and sees the committed state.
                #expect(try reader.queryFirst("SELECT count(*) FROM t") { $0.int64(at: 0) } == 1)
            }
            #expect(try reader.queryFirst("SELECT count(*) FROM t") { $0.int64(at: 0) } == 2)
        }
    }

    @Test func transactionCommitsAndRollsBackOnThrow() throws {
        struct Boom: Error {}
        try withTemporaryCatalogDirectory { dir in
            let db = try open(dir)
            try db.execute("CREATE TABLE t (x INTEGER) STRICT")
            try db.transaction { try db.run("INSERT INTO t VALUES (1)") }
            #expect(throws: Boom.self) {
                try db.transaction {
                    try db.run("INSERT INTO t VALUES (2)")
                    throw Boom()
                }
            }
            #expect(!db.isInTransaction)
            #expect(try db.query("SELECT x FROM t ORDER BY x") { $0.int64(at: 0) } == [1])

            let nested = #expect(throws: SQLiteError.self) {
                try db.transaction { try db.transaction { try db.run("INSERT INTO t VALUES (3)") } }
            }
            #expect(nested?.code == .nestedTransaction)
            #expect(try db.query("SELECT x FROM t ORDER BY x") { $0.int64(at: 0) } == [1])
        }
    }

    @Test func cachedStatementsAreReusedAndReset() throws {
        try withTemporaryCatalogDirectory { dir in
            let db = try open(dir)
            let sql = "SELECT ?1"
            let first = try db.cachedStatement(sql)
            try first.bind(5, at: 1)
            #expect(try first.step())
            let again = try db.cachedStatement(sql)
            #expect(first === again)
            // Reset and cleared: the old binding is gone.
            #expect(try again.step())
            #expect(again.isNull(at: 0))
        }
    }

    @Test func statementCacheIsBounded() throws {
        try withTemporaryCatalogDirectory { dir in
            var options = SQLiteConnection.Options()
            options.statementCacheCapacity = 3
            let db = try open(dir, options)
            let kept = try db.cachedStatement("SELECT 0")
            for i in 1...10 { _ = try db.cachedStatement("SELECT \(i)") }
            // An evicted statement stays valid for whoever still holds it.
            #expect(try kept.step())
            #expect(kept.int64(at: 0) == 0)
        }
    }
}

@Suite("SQLite migrations")
struct SQLiteMigrationTests {
    private let first = (name: "0001_first", sql: "CREATE TABLE one (x INTEGER) STRICT; INSERT INTO one VALUES (1);")
    private let second = (name: "0002_second", sql: "CREATE TABLE two (y TEXT) STRICT;")

    @Test func embeddedMigrationsStartWithTheCatalog() {
        let names = Migrations.all.map(\.name)
        #expect(names.first == "0001_catalog")
        #expect(names == names.sorted())
        #expect(Migrations.all.first?.sql.contains("CREATE TABLE logs") == true)
    }

    @Test func freshDatabaseGetsEveryMigrationOnce() throws {
        try withTemporaryCatalogDirectory { dir in
            let db = try SQLiteConnection(path: dir + "/m.sqlite")
            let migrator = SQLiteMigrator(migrations: [first, second])
            #expect(try migrator.migrate(db) == ["0001_first", "0002_second"])
            #expect(try migrator.appliedMigrations(on: db) == ["0001_first", "0002_second"])
            #expect(try db.queryFirst("SELECT count(*) FROM one") { $0.int64(at: 0) } == 1)

            // Running again, and on a new connection, applies nothing and repeats no data.
            #expect(try migrator.migrate(db) == [])
            let reopened = try SQLiteConnection(path: dir + "/m.sqlite")
            #expect(try migrator.migrate(reopened) == [])
            #expect(try reopened.queryFirst("SELECT count(*) FROM one") { $0.int64(at: 0) } == 1)
        }
    }

    @Test func laterMigrationsApplyToAnOlderDatabase() throws {
        try withTemporaryCatalogDirectory { dir in
            let db = try SQLiteConnection(path: dir + "/m.sqlite")
            #expect(try SQLiteMigrator(migrations: [first]).migrate(db) == ["0001_first"])
            #expect(try SQLiteMigrator(migrations: [first, second]).migrate(db) == ["0002_second"])
        }
    }

    @Test func unknownNewerMigrationIsRefused() throws {
        try withTemporaryCatalogDirectory { dir in
            let db = try SQLiteConnection(path: dir + "/m.sqlite")
            try SQLiteMigrator(migrations: [first, second]).migrate(db)
            let older = SQLiteMigrator(migrations: [first])
            let error = #expect(throws: SQLiteError.self) { try older.migrate(db) }
            #expect(error?.code == .newerSchema)
            #expect(error?.message.contains("0002_second") == true)
            #expect(error?.message.contains("newer version") == true)
        }
    }

    @Test func failingMigrationLeavesNoTrace() throws {
        try withTemporaryCatalogDirectory { dir in
            let db = try SQLiteConnection(path: dir + "/m.sqlite")
            let broken = (name: "0002_broken", sql: "CREATE TABLE half (x INTEGER); INSERT INTO nowhere VALUES (1);")
            let error = #expect(throws: SQLiteError.self) {
                try SQLiteMigrator(migrations: [first, broken]).migrate(db)
            }
            #expect(error?.message.contains("0002_broken") == true)
            #expect(error?.sql == "INSERT INTO nowhere VALUES (1);")
            #expect(try SQLiteMigrator(migrations: [first]).appliedMigrations(on: db) == ["0001_first"])
            let half = try db.queryFirst("SELECT count(*) FROM sqlite_schema WHERE name = 'half'") { $0.int64(at: 0) }
            #expect(half == 0)
        }
    }
}
