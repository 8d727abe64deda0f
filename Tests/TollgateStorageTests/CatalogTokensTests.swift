import Foundation
import Testing

@testable import TollgateStorage

@Suite("Catalog: account tokens and gateway authentication")
struct CatalogTokensTests {
    static func hash(_ byte: UInt8) -> [UInt8] { [UInt8](repeating: byte, count: 32) }

    @Test func createListRevokeAndLoadActive() throws {
        try withTemporaryCatalogDirectory { dir in
            let clock = ClockBox(1_000)
            let catalog = try Catalog(dataDirectory: dir, now: { clock.value })
            try catalog.createAccount(id: "acme", tier: .paid)
            let first = try catalog.createToken(account: "acme", id: "00112233445566aa", hash: Self.hash(1))
            clock.value = 2_000
            try catalog.createToken(account: "acme", id: "00112233445566bb", hash: Self.hash(2))
            try catalog.createToken(account: "default", id: "00112233445566cc", hash: Self.hash(3))
            #expect(first.createdAt == 1_000 && first.revokedAt == nil)
            #expect(try catalog.tokens(account: "acme").map(\.id) == ["00112233445566aa", "00112233445566bb"])
            #expect(try catalog.tokens(account: "acme").first?.hash == Self.hash(1))
            #expect(try catalog.activeTokens().count == 3)

            clock.value = 3_000
            let revoked = try #require(try catalog.revokeToken(account: "acme", id: "00112233445566aa"))
            #expect(revoked.revokedAt == 3_000)
            // Revoking again keeps the first time; another account's id, or an unknown one, revokes nothing.
            clock.value = 4_000
            #expect(try catalog.revokeToken(account: "acme", id: "00112233445566aa")?.revokedAt == 3_000)
            #expect(try catalog.revokeToken(account: "acme", id: "00112233445566cc") == nil)
            #expect(try catalog.revokeToken(account: "acme", id: "ffffffffffffffff") == nil)
            #expect(try catalog.revokeToken(account: "acme", id: "../../etc/passwd") == nil)
            #expect(try catalog.tokens(account: "acme").map(\.revokedAt) == [3_000, nil])
            #expect(
                try catalog.activeTokens().map(\.id).sorted() == ["00112233445566bb", "00112233445566cc"])
        }
    }

    @Test func refusesUnknownAccountsBadIdsAndBadHashes() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            #expect(throws: CatalogError.self) {
                try catalog.createToken(account: "nobody", id: "00112233445566aa", hash: Self.hash(1))
            }
            #expect(throws: CatalogError.self) {
                try catalog.createToken(account: "default", id: "NOT-HEX", hash: Self.hash(1))
            }
            #expect(throws: CatalogError.self) {
                try catalog.createToken(account: "default", id: "00112233445566aa", hash: [1, 2, 3])
            }
            #expect(try catalog.tokens(account: "nobody").isEmpty)
            #expect(try catalog.activeTokens().isEmpty)
        }
    }

    @Test func tokenIDShape() {
        #expect(AccountTokenRecord.isValidID("0123456789abcdef"))
        #expect(!AccountTokenRecord.isValidID("0123456789ABCDEF"))
        #expect(!AccountTokenRecord.isValidID("0123456789abcde"))
        #expect(!AccountTokenRecord.isValidID("0123456789abcdef0"))
        #expect(!AccountTokenRecord.isValidID("../0123456789abc"))
    }

    @Test func gatewayAuthenticationIsStoredAndUpdatable() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            #expect(try catalog.gateway(account: "default", id: "default")?.authentication == false)
            let locked = try catalog.createGateway(account: "default", id: "locked", authentication: true)
            #expect(locked.authentication)
            #expect(try catalog.gateway(account: "default", id: "locked")?.authentication == true)
            let open = try #require(try catalog.updateGateway(account: "default", id: "locked", authentication: false))
            #expect(!open.authentication && open.collectLogs && open.streamUsage)
            let other = try #require(try catalog.updateGateway(account: "default", id: "locked", collectLogs: false))
            #expect(!other.authentication && !other.collectLogs)
            #expect(
                try catalog.updateGateway(account: "default", id: "locked", authentication: true)?.authentication
                    == true)
        }
    }

    @Test func migrationAddsTheTable() throws {
        try withTemporaryCatalogDirectory { dir in
            let connection = try SQLiteConnection(path: dir + "/catalog.sqlite")
            _ = try SQLiteMigrator(migrations: Migrations.all.filter { $0.name < "0006" }).migrate(connection)
            let applied = try SQLiteMigrator().migrate(connection)
            #expect(applied.contains("0006_account_tokens"))
            let columns = try connection.query("SELECT name FROM pragma_table_info('account_tokens')") {
                $0.string(at: 0)
            }
            #expect(columns == ["id", "account", "hash", "created_at", "revoked_at"])
        }
    }
}

/// A settable clock for `Catalog(now:)`.
final class ClockBox: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Int64
    init(_ value: Int64) { current = value }
    var value: Int64 {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }
}
