import Synchronization

/// The accounts and gateways the proxy may forward for, as an in-memory snapshot read on the hot path without
/// touching SQLite. The API updates it when accounts or gateways are created. `tokens` holds the hashes of the
/// accounts' API tokens, for gateways with `authentication` and for the REST API.
public final class GatewayDirectory: Sendable {
    /// What the proxy needs to know about one gateway.
    public struct Entry: Sendable, Equatable {
        public var account: String
        public var gateway: String
        /// Whether logs are collected for this gateway (`collect_logs`).
        public var collectLogs: Bool
        /// Whether OpenAI-style streaming requests get `stream_options.include_usage` added upstream and the
        /// usage-only chunk removed from what the client receives (`stream_usage`).
        public var streamUsage: Bool
        /// Whether requests must carry `cf-aig-authorization: Bearer <token>` with a token of the gateway's
        /// account (`authentication`).
        public var authentication: Bool
        /// Cache, rate limit, retry, timeout and spend limit settings.
        public var policy: GatewayPolicy
        public init(
            account: String, gateway: String, collectLogs: Bool = true, streamUsage: Bool = true,
            authentication: Bool = false, policy: GatewayPolicy = .none
        ) {
            self.account = account
            self.gateway = gateway
            self.collectLogs = collectLogs
            self.streamUsage = streamUsage
            self.authentication = authentication
            self.policy = policy
        }
    }

    private struct Key: Hashable {
        var account: String
        var gateway: String
    }
    private let entries: Mutex<[Key: Entry]>
    private let changes = Atomic<UInt64>(0)
    /// The hashes of the accounts' live API tokens.
    public let tokens: TokenDirectory
    /// The accounts' custom providers (`custom-{slug}`).
    public let customProviders: CustomProviderDirectory
    /// The provider keys the accounts keep in the gateway, decrypted.
    public let providerKeys: ProviderKeyDirectory

    public init(
        _ initial: [Entry] = [], tokens: TokenDirectory = TokenDirectory(),
        customProviders: CustomProviderDirectory = CustomProviderDirectory(),
        providerKeys: ProviderKeyDirectory = ProviderKeyDirectory()
    ) {
        entries = Mutex(Dictionary(initial.map { (Key(account: $0.account, gateway: $0.gateway), $0) }) { _, b in b })
        self.tokens = tokens
        self.customProviders = customProviders
        self.providerKeys = providerKeys
    }

    public func lookup(account: some StringProtocol, gateway: some StringProtocol) -> Entry? {
        let key = Key(account: String(account), gateway: String(gateway))
        return entries.withLock { $0[key] }
    }

    public func upsert(_ entry: Entry) {
        entries.withLock { $0[Key(account: entry.account, gateway: entry.gateway)] = entry }
        changes.add(1, ordering: .releasing)
    }

    /// Forgets a deleted gateway: the proxy answers 404 for it from the next request on.
    public func remove(account: String, gateway: String) {
        _ = entries.withLock { $0.removeValue(forKey: Key(account: account, gateway: gateway)) }
        changes.add(1, ordering: .releasing)
    }

    /// Counts the changes (`upsert`, `remove`): an entry looked up when it read the same is still the entry
    /// (`ResolvedRoute`).
    var generation: UInt64 { changes.load(ordering: .acquiring) }
}
