extension Catalog {
    /// Inserts a row that belongs to account `account` — a gateway, a custom provider, a provider key — in one
    /// transaction with the check that the account exists. `query` inserts nothing when a row with the same key
    /// exists (`ON CONFLICT DO NOTHING`).
    ///
    /// - Throws: `CatalogError` `.accountNotFound` when the account does not exist, `taken()` when a row with the
    ///   same key does.
    func insert(
        inAccount account: String, _ query: String, _ values: [SQLiteValue], taken: () -> CatalogError
    ) throws {
        let inserted = try write { db in
            try db.transaction { () throws -> Int? in
                guard try db.queryFirst(NamedQueries.sql("account_exists"), [.text(account)], row: { _ in true }) != nil
                else {
                    return nil
                }
                return try db.run(query, values)
            }
        }
        switch inserted {
        case nil: throw CatalogError.accountNotFound(account)
        case .some(1): return
        default: throw taken()
        }
    }
}
