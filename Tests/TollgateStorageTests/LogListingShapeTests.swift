import Testing
import TollgateModel

@testable import TollgateStorage

/// The listing statement is made from `Queries/logs_list.sql` for each filter shape: every shape, both orders, with
/// and without a cursor, lists what a plain filter over the entries gives.
@Suite struct LogListingShapeTests {
    @Test func templateKeepsTheLinesWhoseConditionsHold() {
        let shape = Catalog.ListShape(gateway: true, model: true, cursor: true, ascending: false)
        let sql = Catalog.listSQL(shape)
        #expect(sql.contains("FROM logs AS l INDEXED BY logs_by_model\n"))
        #expect(!sql.contains("logs_by_gateway"))
        #expect(
            sql.contains("AND l.gateway = (SELECT n.id FROM log_names AS n WHERE n.name = ?)\n")
                && sql.contains("AND l.model = (SELECT n.id FROM log_names AS n WHERE n.name = ?)\n"))
        #expect(!sql.contains("provider = ?") && !sql.contains("status_code = ?") && !sql.contains("json_each"))
        #expect(sql.contains("AND l.id < ?\n") && !sql.contains("AND l.id > ?"))
        #expect(sql.hasSuffix("ORDER BY l.id DESC LIMIT ?\n"))
        #expect(!sql.contains("-- when"))
        // The listing filters read the annotation joined on every row; the event and metadata filters add their
        // subqueries only when given.
        let controls = Catalog.listSQL(Catalog.ListShape(cached: true, feedback: true, eventID: true, metadata: true))
        #expect(controls.contains("LEFT JOIN log_annotations AS a ON a.account = l.account AND a.id = l.id\n"))
        #expect(controls.contains("AND l.cached = ?\n") && controls.contains("AND a.feedback = ?\n"))
        #expect(controls.contains("e.event_id = ?") && controls.contains("json_each(?)"))
        #expect(!sql.contains("e.event_id") && !sql.contains("AND l.cached") && !sql.contains("a.feedback = ?"))
    }

    @Test func everyShapeListsWhatAPlainFilterGives() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            let generator = LogIDGenerator()
            let start: Int64 = 1_750_000_000_000
            let entries = (0..<40).map { i in
                let id = generator.next(millisecondsSinceEpoch: start + Int64(i))
                return LogIndexEntry(
                    id: id, createdAt: id.milliseconds, account: "default", gateway: ["a", "b"][i % 2],
                    provider: ["openai", "anthropic", "groq"][i % 3], model: ["m1", "m2"][(i / 2) % 2], method: "POST",
                    path: "/x", statusCode: i % 5 == 0 ? 500 : 200, success: i % 5 != 0, stream: i % 4 < 2,
                    durationMicros: 1, ttftMicros: nil, requestSize: 1, responseSize: 1,
                    location: RecordLocation(segment: 0, offset: UInt64(i) * 64, length: 64))
            }
            try catalog.insertLogs(entries)
            for bits in 0..<(1 << 8) {
                func on(_ bit: Int) -> Bool { bits & (1 << bit) != 0 }
                for order in [LogQuery.Order.ascending, .descending] {
                    let query = LogQuery(
                        account: "default", gateway: on(0) ? "a" : nil, provider: on(1) ? "openai" : nil,
                        model: on(2) ? "m1" : nil, statusCode: on(3) ? 200 : nil, success: on(4) ? true : nil,
                        stream: on(5) ? true : nil, from: on(6) ? start + 5 : nil, to: on(7) ? start + 35 : nil,
                        order: order, limit: 2)
                    var expected = entries.filter { e in
                        (query.gateway.map { e.gateway == $0 } ?? true)
                            && (query.provider.map { e.provider == $0 } ?? true)
                            && (query.model.map { e.model == $0 } ?? true)
                            && (query.statusCode.map { e.statusCode == $0 } ?? true)
                            && (query.success.map { e.success == $0 } ?? true)
                            && (query.stream.map { e.stream == $0 } ?? true)
                            && (query.from.map { e.createdAt >= $0 } ?? true)
                            && (query.to.map { e.createdAt < $0 } ?? true)
                    }.map(\.id)
                    if order == .descending { expected.reverse() }
                    var listed: [LogID] = []
                    var page = try catalog.listLogs(query)
                    listed += page.entries.map(\.id)
                    while let cursor = page.nextCursor {
                        var next = query
                        next.cursor = cursor
                        page = try catalog.listLogs(next)
                        listed += page.entries.map(\.id)
                    }
                    #expect(listed == expected, "filters \(bits), \(order)")
                }
            }
        }
    }

    /// The filters only a listing has — cached, feedback, event and metadata (the annotation's replacing the
    /// request's) — in every combination, list what a plain filter over the entries gives.
    @Test func controlFiltersListWhatAPlainFilterGives() throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            let generator = LogIDGenerator()
            let start: Int64 = 1_750_000_000_000
            var entries: [LogIndexEntry] = []
            for i in 0..<24 {
                let id = generator.next(millisecondsSinceEpoch: start + Int64(i))
                // Events of three attempts: the first one's id is the event's; the others name it.
                let eventID = i % 3 == 0 ? nil : entries[i - i % 3].id.description
                entries.append(
                    LogIndexEntry(
                        id: id, createdAt: id.milliseconds, account: "default", gateway: "g", provider: "openai",
                        model: "m", method: "POST", path: "/x", statusCode: 200, success: true, stream: false,
                        durationMicros: 1, ttftMicros: nil, requestSize: 1, responseSize: 1,
                        metadata: [
                            MetadataEntry("user", .string(["alice", "bob"][i % 2])), MetadataEntry("n", .number(2)),
                            MetadataEntry("beta", .bool(i % 4 == 0)),
                        ],
                        location: RecordLocation(segment: 0, offset: UInt64(i) * 64, length: 64), eventID: eventID,
                        attempt: i % 3 + 1, cached: i % 5 == 0, saved: i % 5 == 0 ? 7 : nil))
            }
            try catalog.insertLogs(entries)
            // Feedback on some logs; new metadata on others, which their filters then match instead of the request's.
            for (i, entry) in entries.enumerated() where i % 4 != 3 {
                var annotation = LogAnnotation(feedback: i % 2 == 0 ? 1 : -1)
                if i % 6 == 1 { annotation.metadata = [MetadataEntry("user", .string("carol"))] }
                let annotated = try #require(
                    try catalog.annotateLog(account: "default", id: entry.id, annotation, at: start))
                #expect(annotated.annotation == annotation && annotated.id == entry.id)
                entries[i].annotation = annotation
            }
            let event = entries[6].id.description
            for bits in 0..<(1 << 5) {
                func on(_ bit: Int) -> Bool { bits & (1 << bit) != 0 }
                for order in [LogQuery.Order.ascending, .descending] {
                    var query = LogQuery(account: "default", order: order, limit: 2)
                    query.cached = on(0) ? true : nil
                    query.feedback = on(1) ? 1 : nil
                    query.eventID = on(2) ? event : nil
                    if on(3) { query.metadata["user"] = bits % 2 == 0 ? "alice" : "carol" }
                    if on(4) { query.metadata["beta"] = "true" }
                    var expected = entries.filter { e in
                        let shown = Dictionary(
                            uniqueKeysWithValues: e.shownMetadata.map { entry -> (String, String) in
                                switch entry.value {
                                case .string(let s): (entry.key, s)
                                case .bool(let b): (entry.key, b ? "true" : "false")
                                case .number(let n): (entry.key, "\(Int(n))")
                                }
                            })
                        return (query.cached.map { e.cached == $0 } ?? true)
                            && (query.feedback.map { e.annotation?.feedback == $0 } ?? true)
                            && (query.eventID.map { e.effectiveEventID == $0 } ?? true)
                            && query.metadata.allSatisfy { shown[$0.key] == $0.value }
                    }.map(\.id)
                    if order == .descending { expected.reverse() }
                    var listed: [LogID] = []
                    var page = try catalog.listLogs(query)
                    listed += page.entries.map(\.id)
                    while let cursor = page.nextCursor {
                        var next = query
                        next.cursor = cursor
                        page = try catalog.listLogs(next)
                        listed += page.entries.map(\.id)
                    }
                    #expect(listed == expected, "filters \(bits), \(order)")
                    if bits == 4 { #expect(expected.count == 3) }
                }
            }
            // A number matches as written; a client's event id that is no log id matches its logs only.
            var numbers = LogQuery(account: "default", limit: 100)
            numbers.metadata = ["n": "2"]
            #expect(
                try catalog.listLogs(numbers).entries.count == entries.filter { $0.annotation?.metadata == nil }.count)
            var unknown = LogQuery(account: "default", limit: 100)
            unknown.eventID = "client-event-1"
            #expect(try catalog.listLogs(unknown).entries.isEmpty)
            // A retry's own id names no event: its event is the first attempt's.
            unknown.eventID = entries[1].id.description
            #expect(try catalog.listLogs(unknown).entries.isEmpty)
            // Clearing an annotation deletes it; a log the account does not have is not annotated.
            #expect(
                try catalog.annotateLog(account: "default", id: entries[0].id, LogAnnotation(), at: start)?.annotation
                    == nil)
            #expect(
                try catalog.annotateLog(account: "other", id: entries[1].id, LogAnnotation(score: 5), at: start) == nil)
        }
    }
}
