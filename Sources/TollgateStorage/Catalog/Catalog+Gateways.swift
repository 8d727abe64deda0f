extension Catalog {
    /// Creates a gateway in an existing account.
    ///
    /// - Throws: `CatalogError` `.invalidIdentifier` (parameter `account` or `id`), `.accountNotFound` when the
    ///   account does not exist, `.gatewayExists` when the account already has a gateway with this id.
    @discardableResult
    public func createGateway(
        account: String, id: String, collectLogs: Bool = true, streamUsage: Bool = true, authentication: Bool = false
    ) throws -> GatewayRecord {
        try Self.validate(account, parameter: "account")
        try Self.validate(id, parameter: "id")
        let gateway = GatewayRecord(
            account: account, id: id, collectLogs: collectLogs, authentication: authentication,
            streamUsage: streamUsage, createdAt: now())
        try insert(
            inAccount: account, NamedQueries.sql("gateway_insert"),
            [
                .text(account), .text(id), .bool(collectLogs), .bool(streamUsage), .integer(gateway.createdAt),
                .bool(authentication),
            ]
        ) {
            CatalogError(
                code: .gatewayExists, parameter: "id", message: "gateway \(id) already exists in account \(account)")
        }
        return gateway
    }

    /// Changes the settings given (nil leaves one as it is; `retentionDays: .some(nil)` returns the gateway to its
    /// account's retention) and returns the gateway as stored, or nil when the account has no gateway with this id.
    @discardableResult
    public func updateGateway(
        account: String, id: String, collectLogs: Bool? = nil, streamUsage: Bool? = nil,
        authentication: Bool? = nil, retentionDays: Int?? = nil
    ) throws -> GatewayRecord? {
        try write { db in
            try db.transaction { () throws -> GatewayRecord? in
                let changed = try db.run(
                    NamedQueries.sql("gateway_update"),
                    [
                        .text(account), .text(id), collectLogs.map { .bool($0) } ?? .null,
                        streamUsage.map { .bool($0) } ?? .null, authentication.map { .bool($0) } ?? .null,
                        .bool(retentionDays != nil), .integer(retentionDays.flatMap { $0.map { Int64($0) } }),
                    ]
                )
                guard changed == 1 else { return nil }
                return try db.queryFirst(
                    NamedQueries.sql("gateway_get"), [.text(account), .text(id)], row: Self.gateway(from:))
            }
        }
    }

    /// Changes a gateway as `change` says, in one transaction, and returns it as stored; nil when the account has
    /// no gateway with this id. Settings are checked by the caller (the API).
    @discardableResult
    public func modifyGateway(account: String, id: String, _ change: (inout GatewayRecord) throws -> Void) throws
        -> GatewayRecord?
    {
        try write { db in
            try db.transaction { () throws -> GatewayRecord? in
                guard
                    var gateway = try db.queryFirst(
                        NamedQueries.sql("gateway_get"), [.text(account), .text(id)], row: Self.gateway(from:))
                else { return nil }
                try change(&gateway)
                let c = gateway.controls
                func integer(_ value: Int?) -> SQLiteValue { .integer(value.map { Int64($0) }) }
                try db.run(
                    NamedQueries.sql("gateway_write"),
                    [
                        .text(account), .text(id), .bool(gateway.collectLogs), .bool(gateway.streamUsage),
                        .bool(gateway.authentication), integer(gateway.retentionDays), integer(c.cacheTTL),
                        .bool(c.cacheInvalidateOnUpdate), integer(c.rateLimitingLimit),
                        integer(c.rateLimitingInterval), .text(c.rateLimitingTechnique), .text(c.rateLimitingKey),
                        integer(c.retryMaxAttempts), integer(c.retryDelay), .text(c.retryBackoff),
                        integer(c.requestTimeout), .text(c.spendLimits),
                    ])
                return gateway
            }
        }
    }

    /// Deletes a gateway's settings and returns them as they were; nil when the account has no gateway with this id.
    /// Its logs are left to `deleteLogs(matching:)`, its usage records and rollups stay (they are the account's
    /// accounting).
    public func deleteGateway(account: String, id: String) throws -> GatewayRecord? {
        try write { db in
            try db.transaction { () throws -> GatewayRecord? in
                let key: [SQLiteValue] = [.text(account), .text(id)]
                guard let gateway = try db.queryFirst(NamedQueries.sql("gateway_get"), key, row: Self.gateway(from:))
                else { return nil }
                try db.run(NamedQueries.sql("gateway_delete"), key)
                return gateway
            }
        }
    }

    /// The gateway, or nil when the account has none with this id.
    public func gateway(account: String, id: String) throws -> GatewayRecord? {
        try read { db in
            try db.queryFirst(NamedQueries.sql("gateway_get"), [.text(account), .text(id)], row: Self.gateway(from:))
        }
    }

    /// The account's gateways, by id (empty for an unknown account).
    public func gateways(account: String) throws -> [GatewayRecord] {
        try read { db in
            try db.query(NamedQueries.sql("gateways_of_account"), [.text(account)], row: Self.gateway(from:))
        }
    }

    /// Every gateway of every account, by account then id: what the proxy's directory is built from at start-up.
    public func allGateways() throws -> [GatewayRecord] {
        try read { db in try db.query(NamedQueries.sql("gateways_all"), row: Self.gateway(from:)) }
    }

    static func gateway(from row: SQLiteStatement) -> GatewayRecord {
        func int(_ index: Int) -> Int? { row.optionalInt64(at: index).map { Int($0) } }
        var controls = GatewayControls()
        controls.cacheTTL = int(7)
        controls.cacheInvalidateOnUpdate = row.int64(at: 8) != 0
        controls.rateLimitingLimit = int(9)
        controls.rateLimitingInterval = int(10)
        controls.rateLimitingTechnique = row.optionalString(at: 11)
        controls.rateLimitingKey = row.optionalString(at: 12)
        controls.retryMaxAttempts = int(13)
        controls.retryDelay = int(14)
        controls.retryBackoff = row.optionalString(at: 15)
        controls.requestTimeout = int(16)
        controls.spendLimits = row.optionalString(at: 17)
        return GatewayRecord(
            account: row.string(at: 0), id: row.string(at: 1), collectLogs: row.int64(at: 2) != 0,
            authentication: row.int64(at: 3) != 0, streamUsage: row.int64(at: 6) != 0,
            retentionDays: int(4), createdAt: row.int64(at: 5), controls: controls)
    }
}
