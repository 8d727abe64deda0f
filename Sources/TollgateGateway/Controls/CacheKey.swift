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
        // The fields in one buffer, hashed in one pass.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(body.count + credentials.reduce(0) { $0 + $1.utf8.count + 8 } + 256)
        Self.field(&bytes, "request")
        for part in [account, gateway, provider, method, pathAndQuery] { Self.field(&bytes, part) }
        Self.length(&bytes, credentials.count)
        for credential in credentials { Self.field(&bytes, credential) }
        Self.length(&bytes, body.count)
        bytes.append(contentsOf: body)
        digest = Array(SHA256.hash(data: bytes))
    }

    /// The key of a request that names its own (`cf-aig-cache-key`).
    public init(account: String, gateway: String, clientKey: String) {
        var bytes: [UInt8] = []
        Self.field(&bytes, "client")
        for part in [account, gateway, clientKey] { Self.field(&bytes, part) }
        digest = Array(SHA256.hash(data: bytes))
    }

    /// Lowercase hex, as entry file names use it.
    public var description: String { Hex.lowercase(digest) }

    private static func field(_ bytes: inout [UInt8], _ text: String) {
        length(&bytes, text.utf8.count)
        bytes.append(contentsOf: text.utf8)
    }

    /// A length or count as 8 bytes, big-endian.
    private static func length(_ bytes: inout [UInt8], _ count: Int) {
        let value = UInt64(count)
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}
