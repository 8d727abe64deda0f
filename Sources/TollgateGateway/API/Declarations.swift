import Hummingbird
import TollgateAnalytics
import TollgateModel
import TollgateStorage

/// Accounts, gateways, custom providers and price rows declared outside the REST API (by a configuration file),
/// checked against the same field declarations as the API's routes and applied through the same calls, so a
/// declared setting means exactly what it means in a request body.
///
/// Applying is idempotent: what is missing is created, what differs from a declared setting is updated, the rest is
/// left alone. A setting the declaration does not name keeps its stored value (as with `PATCH`); null returns one to
/// its default.
public struct Declarations: Sendable {
    /// One declared object: its members as JSON, and where it and each member were written.
    public struct Item: Sendable {
        public var members: [String: JSONValue]
        /// How errors name the item: `accounts[0].gateways[1]`.
        public var path: String
        /// Where the item starts, e.g. `tollgate.yaml:12:7`.
        public var origin: String
        /// Where each member was written, by its path inside the item (`cache_ttl`, `spend_limits.rules[0].limit`).
        public var origins: [String: String]

        public init(members: [String: JSONValue], path: String, origin: String, origins: [String: String] = [:]) {
            self.members = members
            self.path = path
            self.origin = origin
            self.origins = origins
        }
    }

    /// An account (`id` and the settings of `PATCH /api/v1/accounts/{account}`) with what belongs to it.
    public struct Account: Sendable {
        public var item: Item
        public var gateways: [Item]
        public var customProviders: [Item]
        public var prices: [Item]

        public init(item: Item, gateways: [Item] = [], customProviders: [Item] = [], prices: [Item] = []) {
            self.item = item
            self.gateways = gateways
            self.customProviders = customProviders
            self.prices = prices
        }
    }

    /// What an item declares, and so which route's fields it takes.
    public enum Kind: Sendable, CaseIterable {
        /// `id` and the fields of `PATCH /api/v1/accounts/{account}`.
        case account
        /// The fields of `POST …/gateways`.
        case gateway
        /// The fields of `POST …/custom-providers`.
        case customProvider
        /// The fields of `POST …/prices`.
        case price

        var fields: [Route.Field] {
            switch self {
            case .account:
                [Route.Field("id", .identifier, "the account's id", required: true)] + (Route.updateAccount.body ?? [])
            case .gateway: Route.createGateway.body ?? []
            case .customProvider: Route.createCustomProvider.body ?? []
            case .price: Route.priceRowFields
            }
        }

        /// The names of the members an item of this kind takes.
        public var memberNames: [String] { fields.map(\.name) }
    }

    public var accounts: [Account]
    /// Rows of the public price list.
    public var prices: [Item]

    public init(accounts: [Account] = [], prices: [Item] = []) {
        self.accounts = accounts
        self.prices = prices
    }

    /// What applying changed, each thing named (`gateway acme/prod`), and how many were already as declared.
    public struct Outcome: Sendable, Equatable {
        public var created: [String] = []
        public var updated: [String] = []
        public var unchanged = 0

        public init() {}

        public var changed: Bool { !created.isEmpty || !updated.isEmpty }
    }

    /// Checks every item as its route would check a request body, with the checks that span fields (a rate limit
    /// needs its interval, a custom provider's URL, a price row's thresholds). Nothing is written.
    public func check() throws(DeclarationError) {
        for item in prices { _ = try Self.check(.price, item) }
        for account in accounts {
            _ = try Self.check(.account, account.item)
            for item in account.gateways { _ = try Self.check(.gateway, item) }
            for item in account.customProviders { _ = try Self.check(.customProvider, item) }
            for item in account.prices { _ = try Self.check(.price, item) }
        }
    }

    /// The item's checked values, with the cross-field checks of its kind.
    static func check(_ kind: Kind, _ item: Item) throws(DeclarationError) -> RouteInput.Values {
        do {
            let values = try RouteInput.checkObject(item.members, fields: kind.fields)
            switch kind {
            case .account: break
            case .gateway:
                var draft = GatewayRecord(account: "check", id: "check", createdAt: 0)
                try GatewayRoutes<BasicRequestContext>.apply(values, to: &draft)
            case .customProvider: _ = try CustomProviderURL.check(values.text("base_url")!)
            case .price: _ = try PriceRow(values)
            }
            return values
        } catch {
            throw DeclarationError(error, in: item)
        }
    }
}

/// Why a declaration was refused or could not be applied: where (the file position of the member at fault, or of
/// its item), which member, and why.
public struct DeclarationError: Error, Sendable, CustomStringConvertible {
    /// `tollgate.yaml:12:7`.
    public var origin: String
    /// The member's full path: `accounts[0].gateways[1].cache_ttl`.
    public var key: String
    public var message: String

    public init(origin: String, key: String, message: String) {
        self.origin = origin
        self.key = key
        self.message = message
    }

    /// An error thrown while checking or applying `item`, placed at the member it names.
    init(_ error: any Error, in item: Declarations.Item) {
        var member: String?
        var message = "\(error)"
        if let api = error as? APIError {
            member = api.parameter
            message = api.message
            if let name = api.parameter, message.hasPrefix(name + ": ") {
                message = String(message.dropFirst(name.count + 2))
            }
        } else if let catalog = error as? CatalogError {
            member = catalog.parameter
            message = catalog.message
        }
        // The member's own position, else that of the nearest enclosing member written, else the item's.
        var origin = item.origin
        if var path = member {
            while !path.isEmpty {
                if let found = item.origins[path] {
                    origin = found
                    break
                }
                guard let cut = path.lastIndex(where: { $0 == "." || $0 == "[" }) else { break }
                path = String(path[..<cut])
            }
        }
        let key = member.map { item.path + "." + $0 } ?? item.path
        self.init(origin: origin, key: key, message: message)
    }

    public var description: String { "\(origin): \(key): \(message)" }
}
