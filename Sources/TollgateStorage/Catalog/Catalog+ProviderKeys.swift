extension Catalog {
    /// Stores a sealed provider key in an existing account.
    ///
    /// - Throws: `CatalogError` `.invalidIdentifier` (parameter `account`), `.accountNotFound` when the account does
    ///   not exist, `.providerKeyExists` when the account already has a key for this provider and alias.
    @discardableResult
    public func createProviderKey(
        account: String, id: String, provider: String, alias: String, sealed: [UInt8], preview: String
    ) throws -> ProviderKeyRecord {
        try Self.validate(account, parameter: "account")
        let record = ProviderKeyRecord(
            id: id, account: account, provider: provider, alias: alias, sealed: sealed, preview: preview,
            createdAt: now())
        try insert(
            inAccount: account, NamedQueries.sql("provider_key_insert"),
            [
                .text(id), .text(account), .text(provider), .text(alias), .blob(sealed), .text(preview),
                .integer(record.createdAt),
            ]
        ) {
            CatalogError(
                code: .providerKeyExists, parameter: "alias",
                message: "account \(account) already has a \(provider) key with alias \(alias)")
        }
        return record
    }

    /// Deletes one provider key; answers its provider and alias, or nil when the account has no key with this id.
    @discardableResult
    public func deleteProviderKey(account: String, id: String) throws -> (provider: String, alias: String)? {
        try write { db in
            try db.queryFirst(NamedQueries.sql("provider_key_delete"), [.text(account), .text(id)]) {
                (provider: $0.string(at: 0), alias: $0.string(at: 1))
            }
        }
    }

    /// The account's provider keys, by provider then alias (empty for an unknown account).
    public func providerKeys(account: String) throws -> [ProviderKeyRecord] {
        try read { db in
            try db.query(NamedQueries.sql("provider_keys_of_account"), [.text(account)], row: Self.providerKey(from:))
        }
    }

    /// Every provider key of every account: what the proxy's directory is built from at start-up.
    public func allProviderKeys() throws -> [ProviderKeyRecord] {
        try read { db in try db.query(NamedQueries.sql("provider_keys_all"), row: Self.providerKey(from:)) }
    }

    static func providerKey(from row: SQLiteStatement) -> ProviderKeyRecord {
        ProviderKeyRecord(
            id: row.string(at: 0), account: row.string(at: 1), provider: row.string(at: 2), alias: row.string(at: 3),
            sealed: row.blob(at: 4), preview: row.string(at: 5), createdAt: row.int64(at: 6))
    }
}
