import TollgateModel

extension Catalog {
    /// Creates an account.
    ///
    /// - Throws: `CatalogError` `.invalidIdentifier` (parameter `id`) when `id` is not a valid identifier,
    ///   `.accountExists` when it is taken.
    @discardableResult
    public func createAccount(id: String, tier: Account.Tier) throws -> Account {
        try Self.validate(id, parameter: "id")
        let account = Account(id: id, tier: tier, createdAt: now())
        let inserted = try write { db in
            try db.run(
                NamedQueries.sql("account_insert"),
                [.text(account.id), .text(account.tier.rawValue), .integer(account.createdAt)])
        }
        guard inserted == 1 else {
            throw CatalogError(code: .accountExists, parameter: "id", message: "account \(id) already exists")
        }
        return account
    }

    /// Creates an account from the tier's name (`free` or `paid`), as an API request gives it.
    ///
    /// - Throws: `CatalogError` `.invalidTier` (parameter `tier`), or what `createAccount(id:tier:)` throws.
    @discardableResult
    public func createAccount(id: String, tier: String) throws -> Account {
        guard let parsed = Account.Tier(rawValue: tier) else {
            let names = Account.Tier.allCases.map(\.rawValue).joined(separator: ", ")
            throw CatalogError(code: .invalidTier, parameter: "tier", message: "tier must be one of \(names)")
        }
        return try createAccount(id: id, tier: parsed)
    }

    /// Changes an account's plan and log settings; a nil argument leaves that setting as it is, and `.some(nil)`
    /// for `logLimit` or `retentionDays` returns it to the tier's default. Returns the account as stored.
    ///
    /// - Throws: `CatalogError` `.accountNotFound`; `.invalidValue` (parameter named) for a limit below 0 or
    ///   retention below 1 day.
    @discardableResult
    public func updateAccount(
        _ id: String, tier: Account.Tier? = nil, logLimit: Int64?? = nil,
        strategy: Account.LogManagementStrategy? = nil, retentionDays: Int?? = nil
    ) throws -> Account {
        if let limit = logLimit, let limit, limit < 0 {
            throw CatalogError(code: .invalidValue, parameter: "log_limit", message: "log_limit must be 0 or more")
        }
        if let days = retentionDays, let days, days < 1 {
            throw CatalogError(
                code: .invalidValue, parameter: "retention_days", message: "retention_days must be 1 or more")
        }
        return try write { db in
            try db.transaction { () throws -> Account in
                guard
                    var account = try db.queryFirst(
                        NamedQueries.sql("account_get"), [.text(id)], row: Self.account(from:))
                else {
                    throw CatalogError(code: .accountNotFound, parameter: "account", message: "account \(id) not found")
                }
                if let tier { account.tier = tier }
                if let logLimit { account.logLimit = logLimit }
                if let strategy { account.logManagementStrategy = strategy }
                if let retentionDays { account.retentionDays = retentionDays }
                try db.run(
                    NamedQueries.sql("account_update"),
                    [
                        .text(id), .text(account.tier.rawValue), .integer(account.logLimit),
                        .text(account.logManagementStrategy.rawValue), .integer(account.retentionDays.map(Int64.init)),
                    ])
                return account
            }
        }
    }

    /// The account with this id, or nil.
    public func account(_ id: String) throws -> Account? {
        try read { db in try db.queryFirst(NamedQueries.sql("account_get"), [.text(id)], row: Self.account(from:)) }
    }

    /// Every account, by id.
    public func accounts() throws -> [Account] {
        try read { db in try db.query(NamedQueries.sql("accounts_all"), row: Self.account(from:)) }
    }

    static func account(from row: SQLiteStatement) throws -> Account {
        let id = row.string(at: 0)
        guard let tier = Account.Tier(rawValue: row.string(at: 1)) else {
            throw CatalogError(code: .invalidValue, message: "account \(id) has unknown tier \(row.string(at: 1))")
        }
        guard let strategy = Account.LogManagementStrategy(rawValue: row.string(at: 4)) else {
            throw CatalogError(
                code: .invalidValue, message: "account \(id) has unknown log management strategy \(row.string(at: 4))"
            )
        }
        return Account(
            id: id, tier: tier, createdAt: row.int64(at: 2), logLimit: row.optionalInt64(at: 3),
            logManagementStrategy: strategy, retentionDays: row.optionalInt64(at: 5).map { Int($0) }
        )
    }

    static func validate(_ id: String, parameter: String) throws {
        guard Identifier.isValid(id) else {
            throw CatalogError(
                code: .invalidIdentifier, parameter: parameter,
                message: "\(parameter) must match [a-z0-9][a-z0-9-]{0,63}"
            )
        }
    }
}
