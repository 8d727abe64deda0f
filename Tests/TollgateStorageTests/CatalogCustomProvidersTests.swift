import Foundation
import Synchronization
import Testing
import TollgateModel

@testable import TollgateStorage

@Suite("Catalog: custom providers")
struct CatalogCustomProvidersTests {
    @Test func createUpdateDeleteAndReopen() throws {
        try withTemporaryCatalogDirectory { dir in
            let clock = Mutex<Int64>(1_000)
            do {
                let catalog = try Catalog(dataDirectory: dir, now: { clock.withLock { $0 } })
                try catalog.createAccount(id: "acme", tier: .paid)
                let made = try catalog.createCustomProvider(
                    account: "acme", slug: "house", baseURL: "https://llm.example.com/v1", api: .openai)
                #expect(made.providerName == "custom-house")
                #expect(made.createdAt == 1_000 && made.updatedAt == 1_000)
                try catalog.createCustomProvider(
                    account: "default", slug: "house", baseURL: "http://127.0.0.1:9", api: .none)
                #expect(throws: CatalogError.self) {
                    try catalog.createCustomProvider(
                        account: "acme", slug: "house", baseURL: "https://other.example.com", api: .gemini)
                }
                do {
                    try catalog.createCustomProvider(
                        account: "nobody", slug: "house", baseURL: "https://x.example.com", api: .openai)
                    Issue.record("created in an unknown account")
                } catch let error as CatalogError {
                    #expect(error.code == .accountNotFound)
                }
                clock.withLock { $0 = 2_000 }
                let changed = try #require(
                    try catalog.updateCustomProvider(account: "acme", slug: "house", api: .anthropic))
                #expect(changed.baseURL == "https://llm.example.com/v1")
                #expect(changed.api == .anthropic)
                #expect(changed.updatedAt == 2_000 && changed.createdAt == 1_000)
                #expect(try catalog.updateCustomProvider(account: "acme", slug: "none-such", api: nil) == nil)
                try catalog.createCustomProvider(
                    account: "acme", slug: "gone", baseURL: "https://g.example.com", api: .none)
                #expect(try catalog.deleteCustomProvider(account: "acme", slug: "gone"))
                #expect(try !catalog.deleteCustomProvider(account: "acme", slug: "gone"))
            }
            let catalog = try Catalog(dataDirectory: dir)
            #expect(try catalog.customProviders(account: "acme").map(\.slug) == ["house"])
            #expect(try catalog.customProvider(account: "acme", slug: "house")?.api == .anthropic)
            #expect(try catalog.customProvider(account: "default", slug: "house")?.api == CustomProviderRecord.API.none)
            #expect(
                try catalog.allCustomProviders().map { "\($0.account)/\($0.slug)" } == ["acme/house", "default/house"])
            #expect(try catalog.customProviders(account: "nobody").isEmpty)
        }
    }
}
