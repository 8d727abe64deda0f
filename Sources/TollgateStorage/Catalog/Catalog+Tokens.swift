import TollgateModel

extension Catalog {
    /// Stores a new token of an account: its id and the SHA-256 of the token (the token itself is never given to
    /// the catalog).
    ///
    /// - Throws: `CatalogError` `.invalidIdentifier` (parameter `account` or `id`), `.invalidValue` when `hash` is
    ///   not 32 bytes, `.accountNotFound` when the account does not exist.
    @discardableResult
    public func createToken(account: String, id: String, hash: [UInt8]) throws -> AccountTokenRecord {
        try Self.validate(account, parameter: "account")
        guard AccountTokenRecord.isValidID(id) else {
            throw CatalogError(code: .invalidIdentifier, parameter: "id", message: "id must be 16 lowercase hex digits")
        }
        guard hash.count == 32 else {
            throw CatalogError(code: .invalidValue, parameter: "hash", message: "hash must be a SHA-256 (32 bytes)")
        }
        let token = AccountTokenRecord(id: id, account: account, hash: hash, createdAt: now())
        let inserted = try write { db in
            try db.run(
                NamedQueries.sql("token_insert"),
                [.text(id), .text(account), .blob(hash), .integer(token.createdAt)])
        }
        guard inserted == 1 else { throw CatalogError.accountNotFound(account) }
        return token
    }

    /// The account's tokens, revoked ones included, oldest first (empty for an unknown account).
    public func tokens(account: String) throws -> [AccountTokenRecord] {
        try read { db in try db.query(NamedQueries.sql("token_list"), [.text(account)], row: Self.token(from:)) }
    }

    /// Revokes a token of the account and returns it as stored (a token revoked before keeps its first
    /// revocation time), or nil when the account has no token with this id.
    @discardableResult
    public func revokeToken(account: String, id: String) throws -> AccountTokenRecord? {
        guard Identifier.isValid(account), AccountTokenRecord.isValidID(id) else { return nil }
        let revokedAt = now()
        return try write { db in
            try db.transaction { () throws -> AccountTokenRecord? in
                let changed = try db.run(
                    NamedQueries.sql("token_revoke"), [.text(account), .text(id), .integer(revokedAt)])
                guard changed == 1 else { return nil }
                return try db.queryFirst(
                    NamedQueries.sql("token_get"), [.text(account), .text(id)], row: Self.token(from:))
            }
        }
    }

    /// Every token not revoked, of every account: what the proxy's token directory is built from at start-up.
    public func activeTokens() throws -> [AccountTokenRecord] {
        try read { db in try db.query(NamedQueries.sql("token_active"), row: Self.token(from:)) }
    }

    static func token(from row: SQLiteStatement) -> AccountTokenRecord {
        AccountTokenRecord(
            id: row.string(at: 0), account: row.string(at: 1), hash: row.blob(at: 2), createdAt: row.int64(at: 3),
            revokedAt: row.optionalInt64(at: 4))
    }
}
