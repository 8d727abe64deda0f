import Crypto
import TollgateModel

/// The exact-match cache's key for a request: a SHA-256 over everything that makes two requests the same request.
///
/// The account, gateway, provider, method, path with its query, the provider's credentials (so that two API keys
/// never share an entry) and the body, each length-prefixed so that no two different requests hash the same
/// bytes. A `cf-aig-cache-key` header replaces all of it with the client's own key, still within the account and
/// gateway.
public struct CacheKey: Hashable, Sendable, CustomStringConvertible {
    /// 32 bytes.
    public let digest: [UInt8]

    public init(
        account: String, gateway: String, provider: String, method: String, pathAndQuery: String,
        credentials: [String], body: some Collection<UInt8>
    ) {
        var hasher = SHA256()
        Self.field(&hasher, "request")
        for part in [account, gateway, provider, method, pathAndQuery] { Self.field(&hasher, part) }
        Self.length(&hasher, credentials.count)
        for credential in credentials { Self.field(&hasher, credential) }
        Self.length(&hasher, body.count)
        hasher.update(data: Array(body))
        digest = Array(hasher.finalize())
    }

    /// The key of a request that names its own (`cf-aig-cache-key`).
    public init(account: String, gateway: String, clientKey: String) {
        var hasher = SHA256()
        Self.field(&hasher, "client")
        for part in [account, gateway, clientKey] { Self.field(&hasher, part) }
        digest = Array(hasher.finalize())
    }

    /// Lowercase hex, as entry file names use it.
    public var description: String { Hex.lowercase(digest) }

    private static func field(_ hasher: inout SHA256, _ text: String) {
        length(&hasher, text.utf8.count)
        hasher.update(data: Array(text.utf8))
    }

    private static func length(_ hasher: inout SHA256, _ count: Int) {
        var value = UInt64(count).bigEndian
        withUnsafeBytes(of: &value) { hasher.update(bufferPointer: $0) }
    }
}
