import CSQLite

/// Applies numbered SQL migrations to a database and records them in `schema_migrations`.
///
/// Each migration runs in its own transaction together with the row that records it, so a migration is either
/// wholly applied and recorded or not at all. A database recording a migration that the list does not contain was
/// written by a newer version of Tollgate: the migrator refuses it (`SQLiteError.Code.newerSchema`) rather than run
/// an older binary on a schema it does not understand.
struct SQLiteMigrator: Sendable {
    /// The migrations in the order they apply: (name, SQL script).
    var migrations: [(name: String, sql: String)]

    init(migrations: [(name: String, sql: String)] = Migrations.all) {
        self.migrations = migrations
    }

    /// The names of the migrations recorded in the database, in name order.
    func appliedMigrations(on connection: SQLiteConnection) throws -> [String] {
        try connection.execute(NamedQueries.sql("schema_migrations_create"))
        return try connection.query(NamedQueries.sql("schema_migrations_all")) { $0.string(at: 0) }
    }

    /// Applies the migrations the database lacks, in order, and returns their names.
    ///
    /// - Throws: `SQLiteError` with code `.newerSchema` when the database records a migration this list does not
    ///   contain (nothing is applied then), or the error of a failing migration (that migration and the ones after it
    ///   are not applied; the ones before it stay applied).
    @discardableResult
    func migrate(_ connection: SQLiteConnection) throws -> [String] {
        let known = Set(migrations.map(\.name))
        let recorded = try appliedMigrations(on: connection)
        let unknown = recorded.filter { !known.contains($0) }
        guard unknown.isEmpty else {
            throw SQLiteError(
                code: .newerSchema, resultCode: SQLITE_ERROR,
                message: "the database at \(connection.path) was written by a newer version of Tollgate: it has "
                    + "migrations this binary does not know (\(unknown.joined(separator: ", "))); "
                    + "run a version that knows them",
                sql: nil
            )
        }
        let alreadyApplied = Set(recorded)
        var applied: [String] = []
        for migration in migrations where !alreadyApplied.contains(migration.name) {
            // Checked again inside the write transaction: another process may have applied it meanwhile.
            let didApply: Bool
            do {
                didApply = try connection.transaction { () throws -> Bool in
                    let present = try connection.queryFirst(
                        NamedQueries.sql("schema_migration_get"), [.text(migration.name)]
                    ) { _ in true }
                    guard present == nil else { return false }
                    try connection.execute(migration.sql)
                    try connection.run(NamedQueries.sql("schema_migration_record"), [.text(migration.name)])
                    return true
                }
            } catch var error as SQLiteError {
                error.message = "migration \(migration.name) failed: \(error.message)"
                throw error
            }
            if didApply { applied.append(migration.name) }
        }
        return applied
    }
}
