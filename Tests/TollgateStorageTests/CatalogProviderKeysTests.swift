import Foundation
import Testing

@testable import TollgateStorage

@Suite("Catalog: provider keys")
struct CatalogProviderKeysTests {
    @Test func oneKeyPerProviderAndAliasDeletedByIdKeptAcrossReopen() throws {
        try withTemporaryCatalogDirectory { dir in
            do {
                let catalog = try Catalog(dataDirectory: dir)
                try catalog.createAccount(id: "acme", tier: .paid)
                let sealed: [UInt8] = [1, 2, 3, 4]
                try catalog.createProviderKey(
                    account: "acme", id: "pk_1", provider: "openai", alias: "default", sealed: sealed, preview: "abcd")
                try catalog.createProviderKey(
                    account: "acme", id: "pk_2", provider: "openai", alias: "team-b", sealed: sealed, preview: "efgh")
                do {
                    try catalog.createProviderKey(
                        account: "acme", id: "pk_3", provider: "openai", alias: "default", sealed: sealed,
                        preview: "ijkl")
                    Issue.record("a second key for the same provider and alias")
                } catch let error as CatalogError {
                    #expect(error.code == .providerKeyExists)
                }
                do {
                    try catalog.createProviderKey(
                        account: "nobody", id: "pk_4", provider: "openai", alias: "default", sealed: sealed,
                        preview: "mnop")
                    Issue.record("stored in an unknown account")
                } catch let error as CatalogError {
                    #expect(error.code == .accountNotFound)
                }
                #expect(try catalog.deleteProviderKey(account: "default", id: "pk_2") == nil)
                let deleted = try #require(try catalog.deleteProviderKey(account: "acme", id: "pk_2"))
                #expect(deleted.provider == "openai" && deleted.alias == "team-b")
            }
            let reopened = try Catalog(dataDirectory: dir)
            let keys = try reopened.providerKeys(account: "acme")
            #expect(keys.map(\.id) == ["pk_1"])
            #expect(keys.first?.sealed == [1, 2, 3, 4] && keys.first?.preview == "abcd")
            #expect(try reopened.allProviderKeys().count == 1)
        }
    }
}
