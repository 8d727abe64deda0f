/// A provider an account added at run time, proxied at `/v1/{account}/{gateway}/custom-{slug}/…` on that account's
/// gateways only.
public struct CustomProviderRecord: Sendable, Hashable {
    /// The wire format whose usage the gateway reads from the provider's responses.
    public enum API: String, Sendable, Hashable, CaseIterable {
        case openai
        case anthropic
        case gemini
        /// No usage is read: requests are logged and counted, unpriced.
        case none
    }

    public var account: String
    /// Lowercase letters, digits and dashes; the proxy path names it `custom-{slug}`.
    public var slug: String
    /// What the forwarded path is appended to, checked by the API (https, or http to a loopback host).
    public var baseURL: String
    public var api: API
    /// Unix milliseconds.
    public var createdAt: Int64
    /// Unix milliseconds.
    public var updatedAt: Int64
    /// A display name (Cloudflare's `name`); nil shows the slug.
    public var name: String?

    public init(
        account: String, slug: String, baseURL: String, api: API, createdAt: Int64, updatedAt: Int64,
        name: String? = nil
    ) {
        self.account = account
        self.slug = slug
        self.baseURL = baseURL
        self.api = api
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.name = name
    }

    /// The provider segment of its proxy paths: `custom-{slug}`.
    public var providerName: String { "custom-" + slug }
}
