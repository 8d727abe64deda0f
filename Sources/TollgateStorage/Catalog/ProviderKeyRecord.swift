/// A provider key an account keeps in the gateway: stored sealed (AES-GCM under the gateway's master key), listed
/// by its preview only.
public struct ProviderKeyRecord: Sendable, Hashable {
    public var id: String
    public var account: String
    /// The provider slug the key is for (`openai`, `anthropic`, `custom-{slug}`, …).
    public var provider: String
    /// Picked by `cf-aig-byok-alias`; `default` when a request names none.
    public var alias: String
    /// The secret as sealed by the gateway (nonce, ciphertext and tag); the catalog never sees it in the clear.
    public var sealed: [UInt8]
    /// The secret's last 4 characters.
    public var preview: String
    /// Unix milliseconds.
    public var createdAt: Int64

    public init(
        id: String, account: String, provider: String, alias: String, sealed: [UInt8], preview: String,
        createdAt: Int64
    ) {
        self.id = id
        self.account = account
        self.provider = provider
        self.alias = alias
        self.sealed = sealed
        self.preview = preview
        self.createdAt = createdAt
    }
}
