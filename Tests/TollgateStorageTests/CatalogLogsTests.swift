import Foundation
import Synchronization
import Testing
import TollgateModel

@testable import TollgateStorage

/// Index entries for tests: ids from a real generator, one per millisecond from `start`, attributes cycling through
/// small sets so every filter has several matches.
private struct EntryFactory {
    let generator = LogIDGenerator()
    var start: Int64 = 1_750_000_000_000
    var next = 0

    mutating func make(account: String = "default", at millis: Int64? = nil) -> LogIndexEntry {
        let i = next
        next += 1
        let created = millis ?? start + Int64(i)
        let id = generator.next(millisecondsSinceEpoch: created)
        return LogIndexEntry(
            id: id, createdAt: id.milliseconds, account: account, gateway: ["default", "prod", "dev"][i % 3],
            provider: ["openai", "anthropic"][i % 2], model: i % 5 == 0 ? nil : ["gpt-4o", "claude"][i % 2],
            method: "POST", path: "/chat/completions", statusCode: i % 7 == 0 ? 500 : 200, success: i % 7 != 0,
            stream: i % 4 == 0, durationMicros: Int64(1000 + i), ttftMicros: i % 4 == 0 ? Int64(100 + i) : nil,
            usage: Usage(tokensIn: Int64(i), tokensOut: Int64(2 * i)), requestSize: 100, responseSize: 200,
            location: RecordLocation(segment: UInt32(i / 100), offset: UInt64(i % 100) * 64, length: 64)
        )
    }

    mutating func make(_ count: Int, account: String = "default") -> [LogIndexEntry] {
        (0..<count).map { _ in make(account: account) }
    }
}

/// Inserts small batches on its own thread until stopped (at most 2,000 batches).
private final class WriterThread: Sendable {
    let catalog: Catalog
    let batches = Atomic<Int>(0)
    let stopping = Atomic<Bool>(false)
    let failure = Mutex<String?>(nil)
    private let finished = DispatchSemaphore(value: 0)

    init(catalog: Catalog) { self.catalog = catalog }

    func start() {
        let thread = Thread { [self] in
            var newer = EntryFactory()
            newer.start = 1_750_000_000_000 + 10_000
            var late = EntryFactory()
            late.start = 1_750_000_000_000 - 10_000
            do {
                while !stopping.load(ordering: .relaxed), batches.load(ordering: .relaxed) < 2_000 {
                    try catalog.insertLogs(newer.make(5) + late.make(2))
                    batches.add(1, ordering: .relaxed)
                }
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
            finished.signal()
        }
        thread.start()
    }

    /// Stops the thread, waits for it (at most 30 s) and returns the batches it inserted.
    func stop() -> Int {
        stopping.store(true, ordering: .relaxed)
        _ = finished.wait(timeout: .now() + 30)
        return batches.load(ordering: .relaxed)
    }
}

/// Every page of a listing, following cursors (bounded).
private func allPages(_ catalog: Catalog, _ query: LogQuery) throws -> [LogIndexEntry] {
    var query = query
    var entries: [LogIndexEntry] = []
    for _ in 0..<10_000 {
        let page = try catalog.listLogs(query)
        entries += page.entries
        guard let cursor = page.nextCursor else { return entries }
        query.cursor = cursor
    }
    Issue.record("listing did not end")
    return entries
}

@Suite("Catalog: log index")
struct CatalogLogsTests {
    @Test func entryRoundTripsWithEveryField() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            let id = LogIDGenerator().next(millisecondsSinceEpoch: 1_760_000_000_123)
            let full = LogIndexEntry(
                id: id, createdAt: 1_760_000_000_123, account: "default", gateway: "default", provider: "anthropic",
                model: "claude-sonnet-4", method: "POST", path: "/v1/messages?beta=true", statusCode: 200,
                success: true, stream: true, durationMicros: 1_234_567, ttftMicros: 89_000,
                usage: Usage(
                    tokensIn: 1200, cachedTokensIn: 1000, cacheWriteTokens: 150, cacheWrite1hTokens: 50, tokensOut: 300,
                    reasoningTokens: 120, serviceTier: "priority"
                ),
                requestSize: 4096, responseSize: 8192, error: nil,
                metadata: [
                    MetadataEntry("user", .string("u-\"1\"\\ é 🚀\n")), MetadataEntry("tries", .number(3)),
                    MetadataEntry("ratio", .number(0.25)), MetadataEntry("beta", .bool(true)),
                    MetadataEntry("a", .bool(false)),
                ],
                payloadStored: false, location: RecordLocation(segment: 12, offset: 1 << 40, length: 70_000),
                eventID: "client-event", attempt: 4, step: 2, cached: true, saved: 1_234_567
            )
            let sparse = LogIndexEntry(
                id: LogIDGenerator().next(millisecondsSinceEpoch: 1_760_000_000_200), createdAt: 1_760_000_000_200,
                account: "default", gateway: "default", provider: "openai", model: nil, method: "GET", path: "/models",
                statusCode: 502, success: false, stream: false, durationMicros: 5, ttftMicros: nil, requestSize: 0,
                responseSize: 0, error: "upstream unreachable",
                location: RecordLocation(segment: 0, offset: 0, length: 1)
            )
            #expect(try catalog.insertLogs([full, sparse]) == 2)
            #expect(try catalog.logEntry(account: "default", id: full.id) == full)
            #expect(try catalog.logEntry(account: "default", id: sparse.id) == sparse)
            #expect(try catalog.logEntry(account: "other", id: full.id) == nil)
            let stored = try catalog.read { db in
                try db.queryFirst("SELECT metadata, typeof(model) FROM logs WHERE id = ?1", [.blob(sparse.id.bytes)]) {
                    [$0.optionalString(at: 0) ?? "NULL", $0.string(at: 1)]
                }
            }
            #expect(stored == ["NULL", "null"])
            // A log that is its own event's first attempt, not cached, stores NULLs and a 0 for those fields.
            let controls = try catalog.read { db in
                try db.queryFirst(
                    "SELECT typeof(event_id), typeof(attempt), typeof(step), cached, typeof(saved) FROM logs WHERE id = ?1",
                    [.blob(sparse.id.bytes)]
                ) { [$0.string(at: 0), $0.string(at: 1), $0.string(at: 2), "\($0.int64(at: 3))", $0.string(at: 4)] }
            }
            #expect(controls == ["null", "null", "null", "0", "null"])
            let json = try catalog.read { db in
                try db.queryFirst(
                    "SELECT json_extract(metadata, '$.tries'), json_valid(metadata) FROM logs WHERE id = ?1",
                    [
                        .blob(full.id.bytes)
                    ]
                ) { [$0.int64(at: 0), $0.int64(at: 1)] }
            }
            #expect(json == [3, 1])
        }
    }

    @Test func entryFromLogRecordKeepsTheRecordFields() {
        let record = LogRecord(
            id: LogIDGenerator().next(millisecondsSinceEpoch: 5_000), createdAt: 5_000, account: "acme",
            gateway: "prod", provider: "openai", model: "gpt-4o", path: "/chat/completions", method: "POST",
            statusCode: 200, success: true, stream: false, durationMicros: 10, ttftMicros: 5,
            usage: Usage(tokensIn: 3, tokensOut: 4), requestSize: 11, responseSize: 22, error: nil,
            metadata: [MetadataEntry("k", .string("v"))], requestBody: [1, 2, 3], payloadStored: true
        )
        let location = RecordLocation(segment: 1, offset: 2, length: 3)
        let entry = LogIndexEntry(record, location: location)
        #expect(entry.id == record.id && entry.createdAt == 5_000 && entry.account == "acme" && entry.gateway == "prod")
        #expect(entry.model == "gpt-4o" && entry.path == "/chat/completions" && entry.method == "POST")
        #expect(entry.usage == record.usage && entry.metadata == record.metadata && entry.location == location)
        #expect(entry.requestSize == 11 && entry.responseSize == 22 && entry.ttftMicros == 5)
        #expect(entry.attempt == 1 && entry.eventID == nil && entry.effectiveEventID == record.id.description)
        // A cache hit costs nothing and saved its price; a refusal costs nothing.
        var hit = record
        hit.cached = true
        hit.eventID = "e-1"
        hit.attempt = 2
        let cached = LogIndexEntry(hit, location: location, price: 900)
        #expect(cached.cost == 0 && cached.saved == 900 && cached.cached && cached.effectiveEventID == "e-1")
        #expect(LogIndexEntry(hit, location: location, price: nil).cost == 0)
        #expect(LogIndexEntry(record, location: location, price: 900).cost == 900)
        var refused = record
        refused.refusal = .rateLimited
        let refusal = LogIndexEntry(refused, location: location, price: 900)
        #expect(refusal.cost == 0 && refusal.saved == nil && refusal.refusal == .rateLimited)
    }

    @Test func reinsertingIsIgnored() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            var factory = EntryFactory()
            let entries = factory.make(10)
            #expect(try catalog.insertLogs(entries) == 10)
            #expect(try catalog.insertLogs(Array(entries[5...]) + factory.make(2)) == 2)
            #expect(try catalog.insertLogs([]) == 0)
            #expect(try allPages(catalog, LogQuery(account: "default", limit: 1000)).count == 12)
        }
    }

    @Test func storedLogsPerMonthCountOnlyNewRows() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            var factory = EntryFactory()
            let october = RFC3339.parse("2026-10-31T23:59:59.999Z")!
            let november = RFC3339.parse("2026-11-01T00:00:00Z")!
            let entries = [
                factory.make(at: october), factory.make(at: november), factory.make(at: november + 5),
                factory.make(account: "other", at: november),
            ]
            try catalog.insertLogs(entries)
            try catalog.insertLogs(entries)  // a recovery re-inserting what is indexed counts nothing
            #expect(try catalog.storedLogs(account: "default", monthStart: UTCMonth.start(of: october)) == 1)
            #expect(try catalog.storedLogs(account: "default", monthStart: november) == 2)
            #expect(try catalog.storedLogs(account: "other", monthStart: november) == 1)
            #expect(try catalog.storedLogs(account: "nobody", monthStart: november) == 0)
            #expect(UTCMonth.start(of: november + 86_400_000 * 20) == november)
            #expect(UTCMonth.next(after: UTCMonth.start(of: october)) == november)
            #expect(UTCMonth.name(november) == "2026-11" && UTCMonth.parse("2026-11") == november)
            #expect(UTCMonth.parse("2026-13") == nil && UTCMonth.parse("26-11") == nil)
        }
    }

    @Test func eachFilterAndOrderMatchesAPlainFilter() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            var factory = EntryFactory()
            let entries = factory.make(210)
            try catalog.insertLogs(entries + factory.make(20, account: "other"))
            let start = factory.start
            let cases: [(LogQuery, (LogIndexEntry) -> Bool)] = [
                (LogQuery(account: "default"), { _ in true }),
                (LogQuery(account: "default", gateway: "prod"), { $0.gateway == "prod" }),
                (LogQuery(account: "default", provider: "anthropic"), { $0.provider == "anthropic" }),
                (LogQuery(account: "default", model: "gpt-4o"), { $0.model == "gpt-4o" }),
                (LogQuery(account: "default", statusCode: 500), { $0.statusCode == 500 }),
                (LogQuery(account: "default", success: false), { !$0.success }),
                (LogQuery(account: "default", success: true), { $0.success }),
                (LogQuery(account: "default", stream: true), { $0.stream }),
                (LogQuery(account: "default", from: start + 50), { $0.createdAt >= start + 50 }),
                (LogQuery(account: "default", to: start + 50), { $0.createdAt < start + 50 }),
                (
                    LogQuery(account: "default", from: start + 20, to: start + 120),
                    { $0.createdAt >= start + 20 && $0.createdAt < start + 120 }
                ),
                (
                    LogQuery(account: "default", gateway: "dev", provider: "openai", stream: true, from: start + 10),
                    { $0.gateway == "dev" && $0.provider == "openai" && $0.stream && $0.createdAt >= start + 10 }
                ),
                (LogQuery(account: "default", gateway: "missing"), { _ in false }),
                (LogQuery(account: "nobody"), { _ in false }),
            ]
            for (query, predicate) in cases {
                let expected = entries.filter(predicate)
                #expect(!expected.isEmpty || query.gateway == "missing" || query.account == "nobody")
                var descending = query
                descending.order = .descending
                descending.limit = 1000
                #expect(try catalog.listLogs(descending).entries == expected.reversed(), "\(query)")
                var ascending = descending
                ascending.order = .ascending
                #expect(try catalog.listLogs(ascending).entries == expected, "\(query)")
                // The same through small pages.
                descending.limit = 7
                ascending.limit = 7
                #expect(try allPages(catalog, descending) == expected.reversed(), "\(query)")
                #expect(try allPages(catalog, ascending) == expected, "\(query)")
            }
        }
    }

    @Test func pagesEndWithANilCursor() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            var factory = EntryFactory()
            try catalog.insertLogs(factory.make(10))
            let first = try catalog.listLogs(LogQuery(account: "default", limit: 5))
            #expect(first.entries.count == 5)
            let cursor = try #require(first.nextCursor)
            let urlSafe = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
            #expect(cursor.allSatisfy { urlSafe.contains($0) })
            let second = try catalog.listLogs(LogQuery(account: "default", limit: 5, cursor: cursor))
            #expect(second.entries.count == 5)
            #expect(second.nextCursor == nil)
            #expect(second.entries.first!.id < first.entries.last!.id)
            #expect(try catalog.listLogs(LogQuery(account: "default", limit: 10)).nextCursor == nil)
            #expect(try catalog.listLogs(LogQuery(account: "default", limit: 1000)).entries.count == 10)
        }
    }

    @Test func refusesBadLimitsAndCursors() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            var factory = EntryFactory()
            try catalog.insertLogs(factory.make(3))
            for limit in [0, -1, 1001] {
                let error = #expect(throws: CatalogError.self) {
                    try catalog.listLogs(LogQuery(account: "default", limit: limit))
                }
                #expect(error?.code == .invalidLimit)
                #expect(error?.parameter == "limit")
            }
            let descendingCursor = try #require(try catalog.listLogs(LogQuery(account: "default", limit: 1)).nextCursor)
            let wrongOrder = #expect(throws: CatalogError.self) {
                try catalog.listLogs(LogQuery(account: "default", order: .ascending, cursor: descendingCursor))
            }
            #expect(wrongOrder?.code == .invalidCursor)
            for bad in ["", "not a cursor", "AAAA", descendingCursor + "A", String(descendingCursor.dropLast())] {
                let error = #expect(throws: CatalogError.self) {
                    try catalog.listLogs(LogQuery(account: "default", cursor: bad))
                }
                #expect(error?.code == .invalidCursor, "\(bad)")
                #expect(error?.parameter == "cursor")
            }
        }
    }

    @Test func pagingIsStableUnderConcurrentInserts() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            var factory = EntryFactory()
            let existing = factory.make(600)
            try catalog.insertLogs(existing)
            let existingIDs = Set(existing.map(\.id))

            // A concurrent writer thread adds rows newer than everything, and rows with older ids (late arrivals).
            let writer = WriterThread(catalog: catalog)
            writer.start()
            for _ in 0..<1_000 where writer.batches.load(ordering: .relaxed) == 0 { usleep(10_000) }
            #expect(writer.batches.load(ordering: .relaxed) > 0)
            for order in [LogQuery.Order.descending, .ascending] {
                var query = LogQuery(account: "default", order: order, limit: 25)
                var seen: [LogID] = []
                for _ in 0..<1_000 {
                    let page = try catalog.listLogs(query)
                    seen += page.entries.map(\.id)
                    // The test thread also inserts between pages, so interleaving is certain.
                    try catalog.insertLogs(factory.make(3))
                    guard let cursor = page.nextCursor else { break }
                    query.cursor = cursor
                }
                #expect(Set(seen).count == seen.count, "duplicates in \(order)")
                #expect(seen == (order == .ascending ? seen.sorted() : seen.sorted(by: >)), "out of order in \(order)")
                #expect(existingIDs.isSubset(of: Set(seen)), "gap in \(order)")
            }
            let batches = writer.stop()
            #expect(batches > 1)
            #expect(writer.failure.withLock { $0 } == nil)
        }
    }

    @Test func listingUsesAnIndexAndNeverSorts() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            var factory = EntryFactory()
            try catalog.insertLogs(factory.make(300))
            let cursor = try #require(try catalog.listLogs(LogQuery(account: "default", limit: 10)).nextCursor)
            let ascendingCursor = try #require(
                try catalog.listLogs(LogQuery(account: "default", order: .ascending, limit: 10)).nextCursor
            )
            let cases: [(LogQuery, String)] = [
                (LogQuery(account: "default"), "PRIMARY KEY"),
                (LogQuery(account: "default", cursor: cursor), "PRIMARY KEY"),
                (LogQuery(account: "default", order: .ascending, cursor: ascendingCursor), "PRIMARY KEY"),
                (LogQuery(account: "default", from: 1, to: 2), "PRIMARY KEY"),
                (LogQuery(account: "default", statusCode: 500, success: false), "PRIMARY KEY"),
                (LogQuery(account: "default", gateway: "prod"), "logs_by_gateway"),
                (LogQuery(account: "default", gateway: "prod", cursor: cursor), "logs_by_gateway"),
                (LogQuery(account: "default", provider: "openai"), "logs_by_provider"),
                (LogQuery(account: "default", model: "gpt-4o", order: .ascending), "logs_by_model"),
                (LogQuery(account: "default", model: "gpt-4o", from: 5), "logs_by_model"),
                (LogQuery(account: "default", gateway: "prod", provider: "openai"), "logs_by_gateway"),
                (LogQuery(account: "default", gateway: "prod", model: "claude", stream: true), "logs_by_model"),
            ]
            for (query, index) in cases {
                let lines = try queryPlan(of: query, in: catalog)
                let text = lines.joined(separator: " | ")
                // Names are looked up in log_names by key: the filters' ids once, each listed row's names by id.
                let names = lines.filter { $0.contains("SCALAR SUBQUERY") || $0.hasPrefix("SEARCH n USING") }
                #expect(
                    names.allSatisfy {
                        $0.contains("SCALAR SUBQUERY") || $0.hasSuffix("INTEGER PRIMARY KEY (rowid=?)")
                            || $0.hasSuffix("COVERING INDEX sqlite_autoindex_log_names_1 (name=?)")
                    }, "\(text)")
                let plan = lines.filter { !names.contains($0) }
                // The logs, then each row's annotation looked up by its primary key.
                #expect(plan.count == 2, "\(text)")
                #expect(text.hasPrefix("SEARCH l USING"), "\(text)")
                #expect(plan.last == "SEARCH a USING PRIMARY KEY (account=? AND id=?) LEFT-JOIN", "\(text)")
                #expect(text.contains(index), "\(text)")
                #expect(!text.contains("SCAN"), "\(text)")
                #expect(!text.contains("TEMP B-TREE"), "\(text)")
            }
        }
    }

    /// An annotation lives beside its log and leaves with it, whichever way the log is deleted (by id, by the
    /// list filters, as retention and quotas do); the annotations of the logs that stay are kept.
    @Test func annotationsAreDeletedWithTheirLogs() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            var factory = EntryFactory()
            let entries = factory.make(30)
            try catalog.insertLogs(entries)
            for entry in entries {
                let annotation = LogAnnotation(
                    feedback: 1, score: 50, metadata: [MetadataEntry("reviewer", .string("ana"))])
                #expect(
                    try catalog.annotateLog(account: "default", id: entry.id, annotation, at: 1)?.annotation
                        == annotation)
            }
            func annotations() throws -> Int64 {
                try catalog.read { db in
                    try db.queryFirst("SELECT count(*) FROM log_annotations") { $0.int64(at: 0) } ?? -1
                }
            }
            #expect(try annotations() == 30)
            #expect(try catalog.deleteLog(account: "default", id: entries[0].id))
            #expect(try annotations() == 29)
            // Retention's and the API's deletion by filters: the gateway "prod" holds every third log.
            let prod = entries.filter { $0.gateway == "prod" }
            #expect(
                try catalog.deleteLogs(matching: LogQuery(account: "default", gateway: "prod"), batchSize: 3)
                    == prod.count)
            #expect(try annotations() == Int64(29 - prod.count))
            let kept = try #require(entries.last { $0.gateway != "prod" })
            #expect(try catalog.logEntry(account: "default", id: kept.id)?.annotation?.score == 50)
            // An annotation never outlives its log: a deleted log cannot be annotated again.
            #expect(
                try catalog.annotateLog(account: "default", id: entries[0].id, LogAnnotation(score: 1), at: 2) == nil)
            #expect(try annotations() == Int64(29 - prod.count))
            #expect(try catalog.orphanedAnnotations() == 0)
        }
    }

    /// Listing one event reads its logs by id (the event's index, then the primary key), never the account's range.
    @Test func anEventIsListedThroughItsIndex() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            var factory = EntryFactory()
            var entries = factory.make(300)
            for i in stride(from: 1, to: entries.count, by: 3) { entries[i].eventID = entries[i - 1].id.description }
            try catalog.insertLogs(entries)
            var query = LogQuery(account: "default")
            query.eventID = entries[0].id.description
            #expect(try catalog.listLogs(query).entries.map(\.id) == [entries[1].id, entries[0].id])
            let plan = try queryPlan(of: query, in: catalog)
            let text = plan.joined(separator: " | ")
            #expect(text.contains("SEARCH l USING PRIMARY KEY (account=? AND id=?)"), "\(text)")
            #expect(text.contains("logs_by_event (account=? AND event_id=?)"), "\(text)")
            #expect(!text.contains("SCAN"), "\(text)")
        }
    }

    @Test func pointLookupsUseAnIndex() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            var factory = EntryFactory()
            try catalog.insertLogs(factory.make(50))
            let cases: [(String, [SQLiteValue], String)] = [
                (NamedQueries.sql("log_get"), [.text("default"), .blob(LogIDGenerator().next().bytes)], "PRIMARY KEY"),
                (NamedQueries.sql("log_max_offset"), [.integer(0)], "logs_by_location"),
                (NamedQueries.sql("log_last_location"), [.integer(0)], "logs_by_location"),
            ]
            for (sql, values, index) in cases {
                let plan = try catalog.read { db in
                    try db.query("EXPLAIN QUERY PLAN " + sql, values) { $0.string(at: 3) }
                }
                let text = plan.joined(separator: " | ")
                #expect(text.contains(index), "\(text)")
                #expect(!text.contains("SCAN"), "\(text)")
                #expect(!text.contains("TEMP B-TREE"), "\(text)")
            }
        }
    }

    @Test func reportsTheIndexedEndOfASegment() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            var factory = EntryFactory()
            try catalog.insertLogs(factory.make(150))  // segment 0 offsets 0…6336, segment 1 offsets 0…3136
            #expect(try catalog.maxIndexedOffset(segment: 0) == 99 * 64)
            #expect(try catalog.maxIndexedOffset(segment: 1) == 49 * 64)
            #expect(try catalog.maxIndexedOffset(segment: 2) == nil)
            #expect(
                try catalog.lastIndexedLocation(segment: 1) == RecordLocation(segment: 1, offset: 49 * 64, length: 64))
            #expect(try catalog.lastIndexedLocation(segment: 2) == nil)
        }
    }

    @Test func measuresBatchInsertRate() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            var factory = EntryFactory()
            let clock = ContinuousClock()
            var rates: [Int] = []
            for _ in 0..<3 {
                let batch = factory.make(10_000)
                let started = clock.now
                let inserted = try catalog.insertLogs(batch)
                let elapsed = clock.now - started
                #expect(inserted == 10_000)
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                rates.append(Int(10_000 / seconds))
            }
            print("catalog insertLogs, 10,000-row batches: \(rates.map { "\($0) rows/s" }.joined(separator: ", "))")
            #expect(
                try catalog.read { db in try db.queryFirst("SELECT count(*) FROM logs") { $0.int64(at: 0) } } == 30_000)
        }
    }
}

@Suite("Catalog: encodings")
struct CatalogEncodingTests {
    @Test func metadataJSONRoundTripsInOrder() {
        let entries = [
            MetadataEntry("z", .string("")), MetadataEntry("a", .string("quote \" back \\ tab \t ctl \u{1} 😀")),
            MetadataEntry("n", .number(-12)), MetadataEntry("f", .number(1e-7)), MetadataEntry("b", .bool(false)),
        ]
        let json = LogMetadataJSON.encode(entries)
        #expect(json?.hasPrefix("{\"z\":\"\",\"a\":") == true)
        #expect(json.flatMap(LogMetadataJSON.decode) == entries)
        #expect(LogMetadataJSON.encode([]) == nil)
        #expect(
            LogMetadataJSON.decode(#"{ "k" : "\u00e9\ud83d\ude00" , "x": 2.5e3 }"#) == [
                MetadataEntry("k", .string("é😀")), MetadataEntry("x", .number(2500)),
            ])
        #expect(LogMetadataJSON.decode("{}") == [])
        for bad in ["", "[]", "{", #"{"a":}"#, #"{"a":1,}"#, #"{"a":1} x"#, #"{"a":"\ud83d"}"#, #"{"a":"x"#] {
            #expect(LogMetadataJSON.decode(bad) == nil, "\(bad)")
        }
    }

    @Test func cursorRoundTripsAndIsCanonical() {
        let id = LogIDGenerator().next()
        for order in [LogQuery.Order.ascending, .descending] {
            let cursor = LogCursor(lastID: id, order: order)
            #expect(cursor.encoded.count == 24)
            #expect(LogCursor(encoded: cursor.encoded) == cursor)
        }
        for bytes in [[], [1], [1, 2], [1, 2, 3], [255, 254, 253, 252]] as [[UInt8]] {
            #expect(LogCursor.Base64URL.decode(LogCursor.Base64URL.encode(bytes)) == bytes)
        }
        #expect(LogCursor.Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(LogCursor.Base64URL.decode("-_9") == nil)  // stray bits after the last byte
        #expect(LogCursor.Base64URL.decode("A") == nil)
    }
}

/// The query plan SQLite chooses for a listing (`EXPLAIN QUERY PLAN` detail lines).
private func queryPlan(of query: LogQuery, in catalog: Catalog) throws -> [String] {
    let (sql, values) = try Catalog.listStatement(query)
    return try catalog.read { db in
        let statement = try db.prepare("EXPLAIN QUERY PLAN " + sql)
        try statement.bind(values)
        var lines: [String] = []
        while try statement.step() { lines.append(statement.string(at: 3)) }
        return lines
    }
}
