import ArgumentParser
import Foundation
import Logging
import TollgateModel
import TollgateStorage

/// `tollgate-bench listing`: log listings answered from the sealed segments' columns (`SegmentListing`), against
/// the same listings answered by the catalog's log index, on a data folder filled by `tollgate generate`. Each
/// query runs `runs` times: the first on empty caches (cold), the median of the rest (warm). Prints one line per
/// query with milliseconds.
struct ListingBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "listing",
        abstract: "Time log listings from segment columns and from the catalog on a generated data folder.")

    @Option(help: "Data folder.") var data: String
    @Option(help: "Account.") var account = "default"
    @Option(help: "Runs per query (the first is cold).") var runs = 11
    @Option(help: "Pages followed by cursor for the later-pages query.") var pages = 20
    @Option(help: "Page size.") var limit = 50
    @Option(help: "Decoded segments kept.") var cachedSegments = 8

    func run() throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let catalog = try Catalog(dataDirectory: data, logger: logger)
        let reader = SegmentReader(directory: data)
        let clock = ContinuousClock()
        func ms(_ d: Duration) -> Double {
            Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        }

        // Summaries, and how often each model and gateway occurs (to find a filter matching about 0.1 %).
        var start = clock.now
        var summaries: [SegmentSummary] = []
        var counts: [String: Int] = [:]
        var total = 0
        var withColumns = 0
        var sampleIDs: [LogID] = []
        var random = SplitMix64(seed: 7)
        for segment in try reader.segments() where try reader.footer(of: segment) != nil {
            let block = try reader.columns(of: segment)
            if block.hasListingColumns { withColumns += 1 }
            if let summary = SegmentSummary(block) { summaries.append(summary) }
            let logged = block.flags(.logged)
            for (column, prefix) in [(RecordField.model, "model="), (.gateway, "gateway="), (.statusCode, "status=")] {
                if column == .statusCode {
                    for (row, code) in block.integers(.statusCode).enumerated() where logged[row] {
                        counts["status=\(code ?? 0)", default: 0] += 1
                    }
                } else {
                    let strings = block.strings(column)
                    for row in 0..<block.count where logged[row] {
                        counts[prefix + (strings[row] ?? ""), default: 0] += 1
                    }
                }
            }
            for row in 0..<block.count where logged[row] {
                total += 1
                if random.next() % 20_000 == 0 { sampleIDs.append(block.ids[row]) }
            }
        }
        let summaryTime = ms(clock.now - start)
        print(
            "segments: \(summaries.count) sealed (\(withColumns) with listing columns), \(total) logs; "
                + "summaries built in \(String(format: "%.0f", summaryTime)) ms")
        guard withColumns == summaries.count, !summaries.isEmpty else {
            throw ValidationError("every sealed segment needs its listing columns: generate the folder anew")
        }
        let rare = counts.min {
            abs(Double($0.value) / Double(total) - 0.001) < abs(Double($1.value) / Double(total) - 0.001)
        }!
        let newest = try catalog.listLogs(LogQuery(account: account, limit: 1)).entries.first!

        func query(_ body: (inout LogQuery) -> Void) -> LogQuery {
            var q = LogQuery(account: account, limit: limit)
            body(&q)
            return q
        }
        var queries: [(String, LogQuery)] = [
            ("newest", query { _ in }),
            ("gateway=\(newest.gateway)", query { $0.gateway = newest.gateway }),
            ("provider=\(newest.provider)", query { $0.provider = newest.provider }),
            ("model=\(newest.model ?? "")", query { $0.model = newest.model }),
            ("oldest", query { $0.order = .ascending }),
        ]
        let share = String(format: "%.3f %%", 100 * Double(rare.value) / Double(total))
        let parts = rare.key.split(separator: "=", maxSplits: 1).map(String.init)
        queries.append(
            (
                "\(rare.key) (\(share))",
                query { q in
                    switch parts[0] {
                    case "model": q.model = parts[1]
                    case "gateway": q.gateway = parts[1]
                    default: q.statusCode = Int(parts[1])
                    }
                }
            ))

        func fromColumns(_ listing: SegmentListing, _ q: LogQuery, after: LogID?) throws -> [LogIndexEntry] {
            try listing.page(q, after: after, limit: q.limit, segments: summaries).map {
                LogIndexEntry(columns: $0.columns.block, row: $0.row, cost: nil, saved: nil, annotation: nil)
            }
        }
        func timed(_ body: () throws -> Void) rethrows -> [Double] {
            var times: [Double] = []
            for _ in 0..<runs {
                let began = clock.now
                try body()
                times.append(ms(clock.now - began))
            }
            return times
        }
        func line(_ name: String, _ columns: [Double], _ catalogTimes: [Double]) {
            let warm = { (t: [Double]) -> Double in
                let rest = t.dropFirst().sorted()
                return rest.isEmpty ? t[0] : rest[rest.count / 2]
            }
            func f(_ x: Double) -> String { String(format: "%.2f", x) }
            print(
                "\(name): columns cold \(f(columns[0])) warm \(f(warm(columns))) ms; "
                    + "catalog cold \(f(catalogTimes[0])) warm \(f(warm(catalogTimes))) ms")
        }
        for (name, q) in queries {
            var listing = SegmentListing(reader: SegmentReader(directory: data), cachedSegments: cachedSegments)
            var first = true
            let columnTimes = try timed {
                if first {
                    listing = SegmentListing(reader: SegmentReader(directory: data), cachedSegments: cachedSegments)
                }
                first = false
                let page = try fromColumns(listing, q, after: nil)
                precondition(!page.isEmpty || name.hasPrefix("status"), "no log for \(name)")
            }
            let catalogTimes = try timed { _ = try catalog.listLogs(q) }
            // Same answer both ways (cost and annotations aside).
            let a = try fromColumns(listing, q, after: nil).map(\.id)
            let b = try catalog.listLogs(q).entries.map(\.id)
            precondition(a == b, "\(name): the columns and the catalog list different logs")
            line(name, columnTimes, catalogTimes)
        }

        // Later pages: each page after the one before, by cursor; the time of each page.
        let listing = SegmentListing(reader: SegmentReader(directory: data), cachedSegments: cachedSegments)
        var after: LogID?
        var cursor: String?
        var columnPages: [Double] = []
        var catalogPages: [Double] = []
        for _ in 0..<pages {
            start = clock.now
            let page = try fromColumns(listing, query { _ in }, after: after)
            columnPages.append(ms(clock.now - start))
            start = clock.now
            let catalogPage = try catalog.listLogs(query { $0.cursor = cursor })
            catalogPages.append(ms(clock.now - start))
            precondition(page.map(\.id) == catalogPage.entries.map(\.id), "later pages differ")
            after = page.last?.id
            cursor = catalogPage.nextCursor
        }
        func median(_ t: [Double]) -> String { String(format: "%.2f", t.sorted()[t.count / 2]) }
        print(
            "pages 1-\(pages) newest by cursor: columns median \(median(columnPages)) ms; catalog median \(median(catalogPages)) ms"
        )

        // A log by id: the summaries' id ranges, then the segment's id index, then the record.
        var byID: [Double] = []
        for id in sampleIDs.shuffled(using: &random) {
            start = clock.now
            var found = false
            for summary in summaries where !(id < summary.minID) && !(summary.maxID < id) {
                if try reader.find(id, in: summary.segment) != nil {
                    found = true
                    break
                }
            }
            byID.append(ms(clock.now - start))
            precondition(found, "log \(id) not found")
        }
        print(
            "log by id (\(byID.count) random, record decoded): median \(median(byID)) ms, max \(String(format: "%.2f", byID.max() ?? 0)) ms"
        )
        print("peak RSS: \(peakRSS())")
    }
}
