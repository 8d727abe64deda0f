extension Catalog {
    /// Creates a custom provider in an existing account. The slug and base URL are checked by the caller (the API).
    ///
    /// - Throws: `CatalogError` `.invalidIdentifier` (parameter `account` or `slug`), `.accountNotFound` when the
    ///   account does not exist, `.customProviderExists` when the account already has one with this slug.
    @discardableResult
    public func createCustomProvider(
        account: String, slug: String, baseURL: String, api: CustomProviderRecord.API, name: String? = nil
    ) throws -> CustomProviderRecord {
        try Self.validate(account, parameter: "account")
        try Self.validate(slug, parameter: "slug")
        let created = now()
        let record = CustomProviderRecord(
            account: account, slug: slug, baseURL: baseURL, api: api, createdAt: created, updatedAt: created,
            name: name)
        try insert(
            inAccount: account, NamedQueries.sql("custom_provider_insert"),
            [.text(account), .text(slug), .text(baseURL), .text(api.rawValue), .integer(created), .text(name)]
        ) {
            CatalogError(
                code: .customProviderExists, parameter: "slug",
                message: "custom provider \(slug) already exists in account \(account)")
        }
        return record
    }

    /// Changes what is given (nil leaves it as it is) and returns the provider as stored, or nil when the account
    /// has none with this slug.
    @discardableResult
    public func updateCustomProvider(
        account: String, slug: String, baseURL: String? = nil, api: CustomProviderRecord.API? = nil,
        name: String? = nil
    ) throws -> CustomProviderRecord? {
        let updated = now()
        return try write { db in
            try db.transaction { () throws -> CustomProviderRecord? in
                let changed = try db.run(
                    NamedQueries.sql("custom_provider_update"),
                    [
                        .text(account), .text(slug), baseURL.map { .text($0) } ?? .null,
                        api.map { .text($0.rawValue) } ?? .null, .integer(updated), .text(name),
                    ])
                guard changed == 1 else { return nil }
                return try db.queryFirst(
                    NamedQueries.sql("custom_provider_get"), [.text(account), .text(slug)],
                    row: Self.customProvider(from:))
            }
        }
    }

    /// Deletes a custom provider; false when the account has none with this slug.
    @discardableResult
    public func deleteCustomProvider(account: String, slug: String) throws -> Bool {
        try write { db in
            try db.run(NamedQueries.sql("custom_provider_delete"), [.text(account), .text(slug)]) == 1
        }
    }

    /// The custom provider, or nil when the account has none with this slug.
    public func customProvider(account: String, slug: String) throws -> CustomProviderRecord? {
        try read { db in
            try db.queryFirst(
                NamedQueries.sql("custom_provider_get"), [.text(account), .text(slug)], row: Self.customProvider(from:))
        }
    }

    /// The account's custom providers, by slug (empty for an unknown account).
    public func customProviders(account: String) throws -> [CustomProviderRecord] {
        try read { db in
            try db.query(
                NamedQueries.sql("custom_providers_of_account"), [.text(account)], row: Self.customProvider(from:))
        }
    }

    /// Every custom provider of every account: what the proxy's directory is built from at start-up.
    public func allCustomProviders() throws -> [CustomProviderRecord] {
        try read { db in try db.query(NamedQueries.sql("custom_providers_all"), row: Self.customProvider(from:)) }
    }

    static func customProvider(from row: SQLiteStatement) -> CustomProviderRecord {
        CustomProviderRecord(
            account: row.string(at: 0), slug: row.string(at: 1), baseURL: row.string(at: 2),
            // The schema's CHECK admits only the four values.
            api: CustomProviderRecord.API(rawValue: row.string(at: 3)) ?? .none,
            createdAt: row.int64(at: 4), updatedAt: row.int64(at: 5), name: row.optionalString(at: 6))
    }
}
