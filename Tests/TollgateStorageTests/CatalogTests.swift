import Foundation
import Synchronization
import Testing
import TollgateModel

@testable import TollgateStorage

@Suite("Catalog: accounts, gateways, segments")
struct CatalogTests {
    @Test func freshCatalogHasTheDefaultAccountAndGateway() throws {
        try withTemporaryCatalogDirectory { dir in
            let before = Int64(Date().timeIntervalSince1970 * 1000)
            let catalog = try Catalog(dataDirectory: dir + "/data")
            #expect(FileManager.default.fileExists(atPath: dir + "/data/catalog.sqlite"))
            let account = try #require(try catalog.account("default"))
            #expect(account.tier == .free)
            #expect(account.logLimit == nil)
            #expect(account.logManagementStrategy == .stopInserting)
            #expect(account.retentionDays == nil)
            #expect(account.createdAt >= before - 1000 && account.createdAt <= before + 60_000)
            let gateway = try #require(try catalog.gateway(account: "default", id: "default"))
            #expect(gateway.collectLogs)
            #expect(!gateway.authentication)
            #expect(gateway.retentionDays == nil)
            #expect(try catalog.accounts().map(\.id) == ["default"])
            #expect(try catalog.allGateways().map(\.id) == ["default"])
        }
    }

    @Test func reopeningKeepsDataAndAddsNothing() throws {
        try withTemporaryCatalogDirectory { dir in
            do {
                let catalog = try Catalog(dataDirectory: dir, now: { 1_000 })
                try catalog.createAccount(id: "acme", tier: .paid)
            }
            let catalog = try Catalog(dataDirectory: dir)
            #expect(try catalog.accounts().map(\.id) == ["acme", "default"])
            #expect(try catalog.allGateways().count == 1)
            #expect(try catalog.account("acme") == Account(id: "acme", tier: .paid, createdAt: 1_000))
        }
    }

    @Test func catalogWrittenByANewerVersionIsRefused() throws {
        try withTemporaryCatalogDirectory { dir in
            do {
                let catalog = try Catalog(dataDirectory: dir)
                try catalog.write { db in
                    try db.run("INSERT INTO schema_migrations (name, applied_at) VALUES ('9999_future', 0)")
                }
            }
            let error = #expect(throws: SQLiteError.self) { try Catalog(dataDirectory: dir) }
            #expect(error?.code == .newerSchema)
            #expect(error?.message.contains("9999_future") == true)
        }
    }

    @Test func createsAndReadsAccounts() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir, now: { 42 })
            let acme = try catalog.createAccount(id: "acme", tier: .paid)
            #expect(acme == Account(id: "acme", tier: .paid, createdAt: 42))
            try catalog.createAccount(id: "0-beta", tier: .free)
            #expect(try catalog.account("acme") == acme)
            #expect(try catalog.account("nobody") == nil)
            #expect(try catalog.accounts().map(\.id) == ["0-beta", "acme", "default"])
            #expect(try catalog.accounts().first == Account(id: "0-beta", tier: .free, createdAt: 42))

            let conflict = #expect(throws: CatalogError.self) { try catalog.createAccount(id: "acme", tier: .free) }
            #expect(conflict?.code == .accountExists)
            #expect(conflict?.parameter == "id")
            #expect(try catalog.account("acme")?.tier == .paid)

            #expect(try catalog.createAccount(id: "named", tier: "paid").tier == .paid)
            let badTier = #expect(throws: CatalogError.self) { try catalog.createAccount(id: "gold", tier: "gold") }
            #expect(badTier?.code == .invalidTier)
            #expect(badTier?.parameter == "tier")
            #expect(try catalog.account("gold") == nil)
        }
    }

    @Test(arguments: ["", "-acme", "Acme", "ac_me", "ac.me", "ac me", "é", String(repeating: "a", count: 65)])
    func refusesInvalidIdentifiers(_ id: String) throws {
        #expect(!Identifier.isValid(id))
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            let accountError = #expect(throws: CatalogError.self) { try catalog.createAccount(id: id, tier: .free) }
            #expect(accountError?.code == .invalidIdentifier)
            let gatewayError = #expect(throws: CatalogError.self) { try catalog.createGateway(account: "default", id: id) }
            #expect(gatewayError?.code == .invalidIdentifier)
            #expect(gatewayError?.parameter == "id")
            #expect(try catalog.accounts().count == 1)
        }
    }

    @Test(arguments: ["a", "0", "acme", "a-b-c", "9-", String(repeating: "z", count: 64)])
    func acceptsValidIdentifiers(_ id: String) {
        #expect(Identifier.isValid(id))
    }

    @Test func createsAndReadsGateways() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir, now: { 7 })
            try catalog.createAccount(id: "acme", tier: .free)
            let prod = try catalog.createGateway(account: "acme", id: "prod")
            #expect(prod == GatewayRecord(account: "acme", id: "prod", collectLogs: true, createdAt: 7))
            let quiet = try catalog.createGateway(account: "acme", id: "quiet", collectLogs: false)
            try catalog.createGateway(account: "default", id: "prod")

            #expect(try catalog.gateway(account: "acme", id: "quiet") == quiet)
            #expect(try catalog.gateway(account: "acme", id: "quiet")?.collectLogs == false)
            #expect(try catalog.gateway(account: "acme", id: "default") == nil)
            #expect(try catalog.gateways(account: "acme").map(\.id) == ["prod", "quiet"])
            #expect(try catalog.gateways(account: "nobody") == [])
            #expect(try catalog.allGateways().map { "\($0.account)/\($0.id)" } == [
                "acme/prod", "acme/quiet", "default/default", "default/prod",
            ])

            let conflict = #expect(throws: CatalogError.self) { try catalog.createGateway(account: "acme", id: "prod") }
            #expect(conflict?.code == .gatewayExists)
            let missing = #expect(throws: CatalogError.self) { try catalog.createGateway(account: "nobody", id: "prod") }
            #expect(missing?.code == .accountNotFound)
            #expect(missing?.parameter == "account")
        }
    }

    @Test func tracksSegments() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            #expect(try catalog.segments() == [])
            try catalog.upsertSegment(SegmentEntry(seq: 2))
            try catalog.upsertSegment(SegmentEntry(seq: 1, firstCreatedAt: 10, lastCreatedAt: 20, recordCount: 3, bytes: 300))
            try catalog.upsertSegment(SegmentEntry(seq: 2, firstCreatedAt: 30, lastCreatedAt: 31, recordCount: 1, bytes: 90))
            try catalog.markSealed(seq: 1, firstCreatedAt: 10, lastCreatedAt: 25, recordCount: 4, bytes: 400, sealedAt: 99)
            #expect(try catalog.segments() == [
                SegmentEntry(seq: 1, state: .sealed, firstCreatedAt: 10, lastCreatedAt: 25, recordCount: 4, bytes: 400, sealedAt: 99),
                SegmentEntry(seq: 2, state: .active, firstCreatedAt: 30, lastCreatedAt: 31, recordCount: 1, bytes: 90),
            ])
            let missing = #expect(throws: CatalogError.self) {
                try catalog.markSealed(seq: 7, firstCreatedAt: nil, lastCreatedAt: nil, recordCount: 0, bytes: 0, sealedAt: 1)
            }
            #expect(missing?.code == .segmentNotFound)
        }
    }

    @Test func concurrentCallersShareTheWriterAndReaders() throws {
        try withTemporaryCatalogDirectory { dir in
            var configuration = Catalog.Configuration()
            configuration.readerCount = 2
            let catalog = try Catalog(dataDirectory: dir, configuration: configuration)
            let failures = Mutex<[String]>([])
            DispatchQueue.concurrentPerform(iterations: 32) { i in
                do {
                    if i % 2 == 0 {
                        try catalog.createGateway(account: "default", id: "g\(i)")
                    } else {
                        _ = try catalog.gateways(account: "default")
                        _ = try catalog.listLogs(LogQuery(account: "default"))
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
            #expect(failures.withLock { $0 } == [])
            #expect(try catalog.gateways(account: "default").count == 17)
        }
    }

    @Test func anotherWriterHoldingTheLockIsReportedAsBusy() throws {
        try withTemporaryCatalogDirectory { dir in
            var configuration = Catalog.Configuration()
            configuration.busyTimeout = .milliseconds(50)
            let first = try Catalog(dataDirectory: dir, configuration: configuration)
            let second = try Catalog(dataDirectory: dir, configuration: configuration)
            try first.write { db in
                try db.transaction {
                    try db.run("INSERT INTO accounts (id, tier, created_at) VALUES ('held', 'free', 0)")
                    let error = #expect(throws: SQLiteError.self) { try second.createAccount(id: "waiting", tier: .free) }
                    #expect(error?.code == .busy)
                    #expect(error?.sql?.hasPrefix("INSERT INTO accounts") == true)
                    let gatewayError = #expect(throws: SQLiteError.self) {
                        try second.createGateway(account: "default", id: "waiting")
                    }
                    #expect(gatewayError?.code == .busy)
                    #expect(gatewayError?.sql == "BEGIN IMMEDIATE")
                }
            }
            try second.createAccount(id: "waiting", tier: .free)
            #expect(try second.accounts().map(\.id) == ["default", "held", "waiting"])
        }
    }

    @Test func readsRunWhileAWriteTransactionIsOpen() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            try catalog.write { db in
                try db.transaction {
                    try db.run("INSERT INTO accounts (id, tier, created_at) VALUES ('pending', 'free', 0)")
                    // A reader connection answers from the last committed state without waiting for the writer.
                    #expect(try catalog.account("pending") == nil)
                    #expect(try catalog.account("default") != nil)
                }
            }
            #expect(try catalog.account("pending") != nil)
        }
    }
}
