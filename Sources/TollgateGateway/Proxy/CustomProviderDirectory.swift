import Synchronization
import TollgateModel
import TollgateStorage

/// The accounts' custom providers as the proxy reads them on the hot path, without touching SQLite: built from the
/// catalog at start-up and changed by the API whenever a custom provider is created, updated or deleted.
public final class CustomProviderDirectory: Sendable {
    /// What the proxy needs of one custom provider.
    struct Entry: Sendable {
        var target: UpstreamTarget
        var api: CustomProviderRecord.API
    }

    private struct Key: Hashable {
        var account: String
        var slug: String
    }
    private let entries: Mutex<[Key: Entry]>
    private let changes = Atomic<UInt64>(0)

    /// The prefix of a custom provider's path segment: `custom-{slug}`.
    static let prefix = "custom-"

    public init(_ initial: [CustomProviderRecord] = []) {
        var entries: [Key: Entry] = [:]
        for record in initial {
            guard let entry = Self.entry(record) else { continue }
            entries[Key(account: record.account, slug: record.slug)] = entry
        }
        self.entries = Mutex(entries)
    }

    /// The custom provider a request's provider segment names (`custom-{slug}`) in an account, or nil.
    func lookup(account: String, provider: some StringProtocol) -> Entry? {
        guard provider.hasPrefix(Self.prefix) else { return nil }
        let key = Key(account: account, slug: String(provider.dropFirst(Self.prefix.count)))
        return entries.withLock { $0[key] }
    }

    /// Adds or replaces a custom provider, in force for the next request.
    public func upsert(_ record: CustomProviderRecord) {
        let entry = Self.entry(record)
        entries.withLock { $0[Key(account: record.account, slug: record.slug)] = entry }
        changes.add(1, ordering: .releasing)
    }

    /// Removes a custom provider: the next request naming it is refused as an unknown provider.
    public func remove(account: String, slug: String) {
        _ = entries.withLock { $0.removeValue(forKey: Key(account: account, slug: slug)) }
        changes.add(1, ordering: .releasing)
    }

    /// Counts the changes (`upsert`, `remove`): a provider looked up when it read the same is still the provider
    /// (`ResolvedRoute`).
    var generation: UInt64 { changes.load(ordering: .acquiring) }

    private static func entry(_ record: CustomProviderRecord) -> Entry? {
        guard var target = UpstreamTarget(baseURL: record.baseURL) else { return nil }
        target.customAPI = record.api
        return Entry(target: target, api: record.api)
    }
}

extension CustomProviderRecord.API {
    /// The provider API family whose conventions apply (a Gemini request names its model in the path); nil for
    /// `none`.
    var providerAPI: Provider.API? {
        switch self {
        case .openai: .openAI
        case .anthropic: .anthropic
        case .gemini: .gemini
        case .none: nil
        }
    }
}
