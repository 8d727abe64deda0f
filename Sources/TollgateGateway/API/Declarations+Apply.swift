import Hummingbird
import TollgateAnalytics
import TollgateModel
import TollgateStorage

extension GatewayApp {
    /// Applies what `declarations` declare, through the same calls as the REST API's routes: missing things are
    /// created, differing settings updated, the rest left as it is (applying twice changes nothing the second
    /// time). Stops at the first item that cannot be applied, with its position.
    public func apply(_ declarations: Declarations) async throws(DeclarationError) -> Declarations.Outcome {
        try await declarations.apply(api)
    }
}

extension Declarations {
    func apply(_ api: APIServices) async throws(DeclarationError) -> Outcome {
        var outcome = Outcome()
        for item in prices { try await Self.apply(price: item, account: "", api, &outcome) }
        for account in accounts {
            let id = try await Self.apply(account: account.item, api, &outcome)
            for item in account.gateways { try await Self.apply(gateway: item, account: id, api, &outcome) }
            for item in account.customProviders {
                try await Self.apply(customProvider: item, account: id, api, &outcome)
            }
            for item in account.prices { try await Self.apply(price: item, account: id, api, &outcome) }
        }
        return outcome
    }

    /// Runs `work` on `item`, turning what it throws into an error placed in the file.
    private static func at<T>(_ item: Item, _ work: () async throws -> T) async throws(DeclarationError) -> T {
        do {
            return try await work()
        } catch let error as DeclarationError {
            throw error
        } catch {
            throw DeclarationError(error, in: item)
        }
    }

    private static func apply(account item: Item, _ api: APIServices, _ outcome: inout Outcome)
        async throws(DeclarationError) -> String
    {
        let values = try check(.account, item)
        let id = values.text("id")!
        let tier = values.text("tier").flatMap(TollgateStorage.Account.Tier.init(rawValue:))
        let strategy = values.text("log_management_strategy")
            .flatMap(TollgateStorage.Account.LogManagementStrategy.init(rawValue:))
        let logLimit = values.integerSetting("log_limit")
        let retention = values.integerSetting("retention_days").map { $0.map { Int($0) } }
        return try await at(item) {
            var created = false
            var account: TollgateStorage.Account
            if let stored = try await api.blocking({ try api.catalog.account(id) }) {
                account = stored
            } else {
                // As `POST /api/v1/accounts`.
                account = try await api.blocking { try api.catalog.createAccount(id: id, tier: tier ?? .free) }
                api.quota.update(account)
                outcome.created.append("account \(id)")
                created = true
            }
            let differs =
                (tier != nil && tier != account.tier) || (logLimit != nil && logLimit! != account.logLimit)
                || (strategy != nil && strategy != account.logManagementStrategy)
                || (retention != nil && retention! != account.retentionDays)
            if differs {
                // As `PATCH /api/v1/accounts/{account}`.
                let updated = try await api.blocking {
                    try api.catalog.updateAccount(
                        id, tier: tier, logLimit: logLimit, strategy: strategy, retentionDays: retention)
                }
                api.quota.update(updated)
                if !created { outcome.updated.append("account \(id)") }
            } else if !created {
                outcome.unchanged += 1
            }
            return id
        }
    }

    private static func apply(gateway item: Item, account: String, _ api: APIServices, _ outcome: inout Outcome)
        async throws(DeclarationError)
    {
        let values = try check(.gateway, item)
        let id = values.text("id")!
        try await at(item) {
            guard let stored = try await api.blocking({ try api.catalog.gateway(account: account, id: id) }) else {
                _ = try await GatewayRoutes<BasicRequestContext>.create(api, account: account, id: id, values)
                outcome.created.append("gateway \(account)/\(id)")
                return
            }
            var draft = stored
            try GatewayRoutes<BasicRequestContext>.apply(values, to: &draft)
            if draft == stored {
                outcome.unchanged += 1
            } else {
                _ = try await GatewayRoutes<BasicRequestContext>.update(api, account: account, id: id, values)
                outcome.updated.append("gateway \(account)/\(id)")
            }
        }
    }

    private static func apply(
        customProvider item: Item, account: String, _ api: APIServices, _ outcome: inout Outcome
    ) async throws(DeclarationError) {
        let values = try check(.customProvider, item)
        let slug = values.text("slug")!
        try await at(item) {
            guard
                let stored = try await api.blocking({ try api.catalog.customProvider(account: account, slug: slug) })
            else {
                _ = try await CustomProviderRoutes<BasicRequestContext>.create(api, account: account, values)
                outcome.created.append("custom provider \(account)/\(slug)")
                return
            }
            let baseURL = try CustomProviderURL.check(values.text("base_url")!)
            let name = values.text("name")
            if stored.baseURL == baseURL && stored.api.rawValue == values.text("api")
                && (name == nil || stored.name == name)
            {
                outcome.unchanged += 1
            } else {
                _ = try await CustomProviderRoutes<BasicRequestContext>.update(
                    api, account: account, slug: slug, values)
                outcome.updated.append("custom provider \(account)/\(slug)")
            }
        }
    }

    private static func apply(price item: Item, account: String, _ api: APIServices, _ outcome: inout Outcome)
        async throws(DeclarationError)
    {
        let values = try check(.price, item)
        try await at(item) {
            let row = try PriceRow(values)
            let stored = api.ledger.prices.entries.first {
                $0.account == account && $0.row.provider == row.provider && $0.row.model == row.model
                    && $0.row.serviceTier == row.serviceTier && $0.row.effectiveFrom == row.effectiveFrom
            }
            let name = "price \(account.isEmpty ? "" : account + "/")\(row.provider)/\(row.model)"
            if stored?.row == row {
                outcome.unchanged += 1
                return
            }
            // As `POST …/prices`.
            try await api.blocking { try api.ledger.prices.upsert(PriceBook.Entry(account: account, row: row)) }
            if stored == nil { outcome.created.append(name) } else { outcome.updated.append(name) }
        }
    }
}
