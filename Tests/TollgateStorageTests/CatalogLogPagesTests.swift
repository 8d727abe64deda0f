import Testing
import TollgateModel

@testable import TollgateStorage

@Suite struct CatalogLogPagesTests {
    private static let start: Int64 = 1_750_000_000_000

    /// Ten logs a millisecond apart; every third has a custom cost; the eighth is a cache hit, the seventh a
    /// retry of the sixth.
    private func entries(account: String = "default") -> [LogIndexEntry] {
        let generator = LogIDGenerator()
        var made: [LogIndexEntry] = []
        for i in 0..<10 {
            let id = generator.next(millisecondsSinceEpoch: Self.start + Int64(i))
            made.append(
                LogIndexEntry(
                    id: id, createdAt: id.milliseconds, account: account, gateway: "g\(i % 2)", provider: "openai",
                    model: i == 4 ? nil : "gpt-4o", method: "POST", path: "/chat/completions", statusCode: 200 + i,
                    success: i % 2 == 0, stream: i % 3 == 1, durationMicros: Int64(1000 + i),
                    ttftMicros: i % 2 == 0 ? Int64(100 + i) : nil,
                    usage: Usage(
                        tokensIn: Int64(i), cachedTokensIn: 1, cacheWriteTokens: 2, cacheWrite1hTokens: 3,
                        tokensOut: Int64(2 * i), reasoningTokens: 4, serviceTier: i == 2 ? "flex" : nil),
                    requestSize: 10, responseSize: 20, error: i == 3 ? "upstream, \"timeout\"" : nil,
                    cost: i == 5 ? nil : Int64(i * 7), customCost: i % 3 == 0,
                    location: RecordLocation(segment: 0, offset: UInt64(i) * 64, length: 64),
                    eventID: i == 6 ? made[5].id.description : nil, attempt: i == 6 ? 2 : 1, cached: i == 7,
                    saved: i == 7 ? 99 : nil))
        }
        return made
    }

    @Test func exportPagesCoverTheRangeOnceInIdOrder() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            let all = entries()
            try catalog.insertLogs(all + entries(account: "other"))
            _ = try catalog.annotateLog(
                account: "default", id: all[4].id, LogAnnotation(feedback: -1, score: 12), at: 0)
            var pages: [[LogIndexEntry]] = []
            var after: LogID?
            while true {
                let page = try catalog.exportedLogs(
                    account: "default", from: Self.start + 2, to: Self.start + 9, after: after, limit: 3)
                guard let last = page.last else { break }
                pages.append(page)
                after = last.id
            }
            #expect(pages.map(\.count) == [3, 3, 1])
            let logs = pages.flatMap { $0 }
            #expect(logs.map(\.id) == all[2..<9].map(\.id))
            for (log, entry) in zip(logs, all[2..<9]) {
                #expect(log.createdAt == entry.createdAt)
                #expect(log.gateway == entry.gateway && log.provider == entry.provider && log.model == entry.model)
                #expect(log.method == entry.method && log.path == entry.path && log.statusCode == entry.statusCode)
                #expect(log.success == entry.success && log.stream == entry.stream)
                #expect(log.durationMicros == entry.durationMicros && log.ttftMicros == entry.ttftMicros)
                #expect(log.usage == entry.usage)
                #expect(log.cost == entry.cost && log.customCost == entry.customCost && log.error == entry.error)
                #expect(log.eventID == entry.eventID && log.attempt == entry.attempt && log.step == nil)
                #expect(log.cached == entry.cached && log.saved == entry.saved)
            }
            #expect(logs[5].cached && logs[5].saved == 99 && !logs[1].cached)
            #expect(logs[4].effectiveEventID == all[5].id.description && logs[4].attempt == 2)
            #expect(logs[2].annotation == LogAnnotation(feedback: -1, score: 12) && logs[3].annotation == nil)
        }
    }

    /// Custom-cost logs keep their cost, and cache hits cost 0 whatever the prices: repricing skips both.
    @Test func repricePagesSkipCustomCostsAndMatchTheirCount() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            let all = entries()
            try catalog.insertLogs(all)
            let expected = all[1..<8].filter { !$0.customCost && !$0.cached }
            #expect(
                try catalog.repriceableLogCount(account: "default", from: Self.start + 1, to: Self.start + 8)
                    == expected.count)
            let first = try catalog.repriceableLogs(
                account: "default", from: Self.start + 1, to: Self.start + 8, after: nil, limit: 2)
            let rest = try catalog.repriceableLogs(
                account: "default", from: Self.start + 1, to: Self.start + 8, after: first.last?.id, limit: 100)
            let logs = first + rest
            #expect(logs == expected)
        }
    }
}
