/// An API token of an account, as the catalog stores it: its public id and the SHA-256 of the token, never the
/// token itself.
public struct AccountTokenRecord: Sendable, Hashable {
    /// The public id: 16 lowercase hex digits.
    public var id: String
    public var account: String
    /// SHA-256 of the token as the client sends it (32 bytes).
    public var hash: [UInt8]
    /// Unix milliseconds.
    public var createdAt: Int64
    /// Unix milliseconds of revocation; nil while the token is valid.
    public var revokedAt: Int64?

    public init(id: String, account: String, hash: [UInt8], createdAt: Int64, revokedAt: Int64? = nil) {
        self.id = id
        self.account = account
        self.hash = hash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }

    /// Whether `text` has the shape of a token id (16 lowercase hex digits); anything else names no token.
    public static func isValidID(_ text: some StringProtocol) -> Bool {
        text.utf8.count == 16
            && text.utf8.allSatisfy {
                ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9"))
                    || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f"))
            }
    }
}
