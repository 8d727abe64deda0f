import Crypto
import NIOHTTP1
import Synchronization

/// The SHA-256 hashes of every account's live API tokens, in memory, so the proxy can check
/// `cf-aig-authorization` on the event loop and the REST API a bearer token without touching SQLite.
///
/// Loaded from the catalog at start; the token routes add a token once it is stored and remove it once its
/// revocation is stored, so a revoked token stops working with the next request. A presented token is hashed and
/// compared with every candidate hash in time that does not depend on where (or whether) they differ.
public final class TokenDirectory: Sendable {
    /// One live token: its account, public id and SHA-256.
    public struct Entry: Sendable, Equatable {
        public var account: String
        public var id: String
        public var hash: [UInt8]

        public init(account: String, id: String, hash: [UInt8]) {
            self.account = account
            self.id = id
            self.hash = hash
        }
    }

    private let byAccount: Mutex<[String: [Entry]]>

    public init(_ initial: [Entry] = []) {
        byAccount = Mutex(Dictionary(grouping: initial, by: \.account))
    }

    public func add(_ entry: Entry) {
        byAccount.withLock { $0[entry.account, default: []].append(entry) }
    }

    public func remove(account: String, id: String) {
        byAccount.withLock { directory in
            directory[account]?.removeAll { $0.id == id }
            if directory[account]?.isEmpty == true { directory[account] = nil }
        }
    }

    /// Every live token, by account then insertion order (for tests).
    public var entries: [Entry] {
        byAccount.withLock { directory in directory.keys.sorted().flatMap { directory[$0] ?? [] } }
    }

    /// Whether `token` is a live token of `account`.
    public func verify(_ token: some Collection<UInt8>, account: String) -> Bool {
        let hash = Self.hash(token)
        let candidates = byAccount.withLock { $0[account] ?? [] }
        var found = false
        for candidate in candidates where Self.constantTimeEquals(candidate.hash, hash) {
            found = true
        }
        return found
    }

    /// The account whose live token `token` is, or nil.
    public func account(of token: some Collection<UInt8>) -> String? {
        let hash = Self.hash(token)
        let all = byAccount.withLock { $0 }
        var found: String?
        for (account, candidates) in all {
            for candidate in candidates where Self.constantTimeEquals(candidate.hash, hash) {
                found = account
            }
        }
        return found
    }

    /// The SHA-256 of a token's bytes, as the catalog stores it.
    public static func hash(_ token: some Collection<UInt8>) -> [UInt8] {
        Array(SHA256.hash(data: Array(token)))
    }

    /// The credential of an `Authorization`-style header value, `Bearer <credential>` (scheme in any case), as
    /// bytes; nil for any other shape.
    static func bearerCredential(_ header: String) -> ArraySlice<UInt8>? {
        let bytes = Array(header.utf8)
        guard bytes.count > 7 else { return nil }
        let scheme = "bearer ".utf8
        for (index, expected) in scheme.enumerated() {
            let byte = bytes[index]
            let lower = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            guard lower == expected else { return nil }
        }
        return bytes[7...]
    }

    /// Whether `a` and `b` are equal, in time that depends only on their lengths.
    static func constantTimeEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
        var diff = UInt8(truncatingIfNeeded: a.count ^ b.count)
        var left = a.makeIterator()
        var right = b.makeIterator()
        for _ in 0..<max(a.count, b.count) {
            diff |= (left.next() ?? 0) ^ (right.next() ?? 0)
        }
        return diff == 0
    }
}

extension TokenDirectory {
    static let gatewayUnauthorizedMessage =
        "this gateway requires cf-aig-authorization: Bearer <token> with a valid token of its account"

    /// Whether the request's `cf-aig-authorization` is `Bearer <token>` with a live token of `account` (the
    /// proxy's check for gateways with `authentication`; the header itself is never forwarded upstream).
    func authorizes(_ headers: HTTPHeaders, account: String) -> Bool {
        guard let value = headers.first(name: GatewayHeader.authorization.name),
            let token = Self.bearerCredential(value)
        else { return false }
        return verify(token, account: account)
    }
}
