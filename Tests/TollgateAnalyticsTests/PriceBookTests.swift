import Foundation
import Testing
import TollgateAnalytics
import TollgateModel
import TollgateStorage

/// The price table in the catalog: seeded from the shipped list without overwriting what an operator entered,
/// account overrides, and the rules for requests without a price.
struct PriceBookTests {
    static func temporaryCatalog() throws -> Catalog {
        let path = scratchDirectory("prices")
        return try Catalog(dataDirectory: path)
    }

    static func row(_ model: String, input: String, output: String, from: Int64 = 0, source: String = "") -> PriceRow {
        PriceRow(
            provider: "openai", model: model, effectiveFrom: from,
            rates: .init(
                input: PriceRow.perToken(usdPerMillion: input)!, output: PriceRow.perToken(usdPerMillion: output)!),
            source: source)
    }

    static let usage = Usage(tokensIn: 1000, tokensOut: 100)

    func cost(_ book: PriceBook, account: String = "a", model: String?, usage: Usage = usage, status: Int = 200)
        -> Int64?
    {
        book.cost(
            account: account, provider: "openai", model: model, usage: usage, at: 1_000, customCost: nil,
            statusCode: status)
    }

    @Test func shippedRowsSeedTheTableAndNeverOverwriteOperatorRows() throws {
        let catalog = try Self.temporaryCatalog()
        let shipped = PriceTable([Self.row("m", input: "1", output: "2", source: "list v1")])
        let book = try PriceBook(catalog: catalog, shipped: shipped)
        #expect(cost(book, model: "m") == Int64(1000 * 1_000_000 + 100 * 2_000_000))
        #expect(book.entries.map(\.origin) == ["shipped"])

        // A newer binary corrects the shipped figure: the shipped row follows.
        let corrected = PriceTable([Self.row("m", input: "1.5", output: "2", source: "list v2")])
        let reopened = try PriceBook(catalog: catalog, shipped: corrected)
        #expect(cost(reopened, model: "m") == Int64(1000 * 1_500_000 + 100 * 2_000_000))

        // An operator's correction of the same row wins over every later shipped list.
        try reopened.upsert(.init(row: Self.row("m", input: "0.5", output: "1")))
        let third = try PriceBook(catalog: catalog, shipped: corrected)
        #expect(third.entries.count == 1)
        #expect(third.entries[0].origin == "api")
        #expect(cost(third, model: "m") == Int64(1000 * 500_000 + 100 * 1_000_000))
    }

    @Test func accountRowsOverrideThePublicPriceFromTheirDate() throws {
        let catalog = try Self.temporaryCatalog()
        let book = try PriceBook(catalog: catalog, shipped: PriceTable([Self.row("m", input: "1", output: "1")]))
        try book.upsert(.init(account: "acme", row: Self.row("m", input: "0.8", output: "0.8", from: 500)))
        #expect(cost(book, account: "acme", model: "m") == Int64(1100 * 800_000))
        #expect(cost(book, account: "other", model: "m") == Int64(1100 * 1_000_000))
        // Before the negotiated price took effect, the public one applies.
        #expect(
            book.cost(
                account: "acme", provider: "openai", model: "m", usage: Self.usage, at: 499, customCost: nil,
                statusCode: 200) == Int64(1100 * 1_000_000))
        #expect(
            try book.delete(account: "acme", provider: "openai", model: "m", serviceTier: "default", effectiveFrom: 500)
        )
        #expect(cost(book, account: "acme", model: "m") == Int64(1100 * 1_000_000))
    }

    @Test func aPublicListPricesRequestsOlderThanItsFirstRow() throws {
        let catalog = try Self.temporaryCatalog()
        let book = try PriceBook(
            catalog: catalog,
            shipped: PriceTable([
                Self.row("m", input: "1", output: "1", from: 5_000),
                Self.row("m", input: "2", output: "2", from: 9_000),
            ]))
        func at(_ time: Int64, account: String = "a") -> Int64? {
            book.cost(
                account: account, provider: "openai", model: "m", usage: Self.usage, at: time, customCost: nil,
                statusCode: 200)
        }
        #expect(at(100) == Int64(1100 * 1_000_000), "before the first row: the first row")
        #expect(at(8_999) == Int64(1100 * 1_000_000))
        #expect(at(9_000) == Int64(1100 * 2_000_000), "from the change on: the new row")
        // A negotiated price applies from its date only.
        try book.upsert(.init(account: "acme", row: Self.row("m", input: "0.5", output: "0.5", from: 7_000)))
        #expect(at(6_999, account: "acme") == Int64(1100 * 1_000_000))
        #expect(at(7_000, account: "acme") == Int64(1100 * 500_000))
    }

    @Test func aModelPricedBeforeARowChangeIsPricedByTheNewRow() throws {
        // The book remembers the rows it found for each model; a change to the table must not leave a record priced
        // by what it remembered.
        let book = try PriceBook(
            catalog: try Self.temporaryCatalog(), shipped: PriceTable([Self.row("m", input: "1", output: "1")]))
        #expect(cost(book, account: "acme", model: "m") == Int64(1100 * 1_000_000))
        #expect(cost(book, account: "acme", model: "m-2025-01-01") == Int64(1100 * 1_000_000), "a dated snapshot")
        try book.upsert(.init(account: "acme", row: Self.row("m", input: "0.5", output: "0.5")))
        #expect(cost(book, account: "acme", model: "m") == Int64(1100 * 500_000))
        #expect(cost(book, account: "acme", model: "m-2025-01-01") == Int64(1100 * 500_000))
        #expect(cost(book, account: "other", model: "m") == Int64(1100 * 1_000_000))
        // A tier row for the model: records of that tier take it, the others keep the default row.
        var flex = Self.row("m", input: "0.25", output: "0.25")
        flex.serviceTier = "flex"
        try book.upsert(.init(row: flex))
        var flexUsage = Self.usage
        flexUsage.serviceTier = "flex"
        #expect(cost(book, account: "other", model: "m", usage: flexUsage) == Int64(1100 * 250_000))
        #expect(cost(book, account: "other", model: "m") == Int64(1100 * 1_000_000))
        #expect(
            try book.delete(account: "acme", provider: "openai", model: "m", serviceTier: "default", effectiveFrom: 0))
        #expect(cost(book, account: "acme", model: "m") == Int64(1100 * 1_000_000))
    }

    @Test func withoutAPriceNothingIsGuessed() throws {
        let book = try PriceBook(catalog: try Self.temporaryCatalog(), shipped: PriceTable([]))
        #expect(cost(book, model: "unknown") == nil, "unknown model: unpriced")
        #expect(cost(book, model: nil) == nil)
        let noUsage = Usage()
        #expect(cost(book, model: "unknown", usage: noUsage, status: 200) == nil, "a stream without usage")
        #expect(cost(book, model: "unknown", usage: noUsage, status: 429) == 0, "a refused request")
        #expect(cost(book, model: "unknown", usage: noUsage, status: 502) == 0, "nothing reached a model")
        let custom = book.cost(
            account: "a", provider: "openai", model: nil, usage: noUsage, at: 0,
            customCost: .perToken(input: 1, output: 1), statusCode: 200)
        #expect(custom == nil, "per-token custom prices need tokens")
        let total = book.cost(
            account: "a", provider: "openai", model: nil, usage: noUsage, at: 0, customCost: .total(42),
            statusCode: 200)
        #expect(total == 42)
    }

    @Test func theShippedListLoadsIntoTheCatalog() throws {
        let shipped = try PriceTable.shipped()
        let book = try PriceBook(catalog: try Self.temporaryCatalog(), shipped: shipped)
        #expect(book.entries.count == shipped.count)
        #expect(book.entries.allSatisfy { $0.origin == "shipped" && !$0.row.source.isEmpty })
    }
}
