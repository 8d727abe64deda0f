import Testing
import TollgateModel

@testable import TollgateStorage

/// A listing answered from a sealed segment's columns equals a naive filter over the records themselves.
@Suite("Log listing through segment columns")
struct LogColumnScanTests {
    /// Records with every field a filter reads varied, appended in nearly (not exactly) id order, some of them
    /// usage records, sealed into segment 1.
    struct Fixture {
        let dir = TemporaryDirectory()
        var written: [(location: RecordLocation, record: LogRecord)] = []
        var deleted: Set<LogID> = []
        var annotations: [LogID: LogAnnotation] = [:]
        var columns: SegmentColumns
        /// Every sealed segment, oldest first.
        var sealed: [UInt32] = []

        /// `rotateEvery`: seal a segment after that many records (one segment when nil).
        init(seed: UInt64, count: Int = 400, rotateEvery: Int? = nil) throws {
            var factory = RecordFactory(seed: seed)
            var random = SplitMix64(seed: seed ^ 0x5eed)
            func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
            var records: [LogRecord] = []
            for _ in 0..<count {
                var r = factory.record()
                r.account = pick(["default", "default", "other"])
                r.gateway = pick(["prod", "staging", "edge"])
                r.statusCode = pick([200, 200, 200, 429, 500])
                r.success = r.statusCode == 200
                r.stream = random.next() % 3 == 0
                r.cached = random.next() % 6 == 0
                r.payloadStored = random.next() % 5 != 0
                r.customCost = random.next() % 7 == 0 ? .total(Int64(random.next() % 1000)) : nil
                r.error = r.success ? nil : pick(["upstream timed out", "bad gateway"])
                r.usage.serviceTier = pick([nil, "default", "flex"])
                r.step = pick([nil, nil, 0, 1])
                r.attempt = pick([1, 1, 2, 3])
                if random.next() % 4 == 0 {
                    // A retry names its first attempt's id; a client names its own event.
                    r.eventID =
                        records.isEmpty || random.next() % 2 == 0
                        ? pick(["evt-a", "evt-b"]) : pick(records).id.description
                }
                var metadata: [MetadataEntry] = []
                if random.next() % 2 == 0 { metadata.append(MetadataEntry("user", .string(pick(["u1", "u2", "u3"])))) }
                if random.next() % 3 == 0 { metadata.append(MetadataEntry("tries", .number(pick([1, 2, 2.5])))) }
                if random.next() % 3 == 0 { metadata.append(MetadataEntry("beta", .bool(random.next() % 2 == 0))) }
                r.metadata = metadata
                if random.next() % 10 == 0 {
                    r.logged = false  // a usage record: never listed
                    r.refusal = random.next() % 2 == 0 ? .rateLimited : nil
                }
                records.append(r)
            }
            // Appended when their requests end: mostly in id order, some neighbours swapped.
            for i in stride(from: 1, to: records.count, by: 1) where random.next() % 5 == 0 {
                records.swapAt(i - 1, i)
            }
            // A few long requests end well after later ones started: their segments' id ranges overlap.
            for i in stride(from: records.count - 1, through: 0, by: -1) where random.next() % 25 == 0 {
                let record = records.remove(at: i)
                records.insert(record, at: min(records.count, i + 20 + Int(random.next() % 150)))
            }
            var configuration = SegmentWriter.Configuration()
            configuration.dictionarySampleRecords = 100
            let writer = try SegmentWriter(directory: dir.path, configuration: configuration, logger: quietLogger)
            for (i, record) in records.enumerated() {
                written.append((try writer.append(record), record))
                if let rotateEvery, (i + 1) % rotateEvery == 0 { try writer.rotate() }
            }
            if writer.activeRecordCount > 0 { try writer.rotate() }
            try writer.close(seal: false)
            for (_, record) in written where record.logged {
                if random.next() % 20 == 0 { deleted.insert(record.id) }
                switch random.next() % 8 {
                case 0: annotations[record.id] = LogAnnotation(feedback: 1)
                case 1: annotations[record.id] = LogAnnotation(feedback: -1, score: 40)
                case 2:
                    annotations[record.id] = LogAnnotation(metadata: [MetadataEntry("user", .string("u3"))])
                default: break
                }
            }
            let reader = SegmentReader(directory: dir.path)
            columns = SegmentColumns(try reader.columns(of: 1))
            sealed = try reader.segments().filter { try reader.footer(of: $0) != nil }
        }

        /// The ids `query` lists after `after`, by filtering every record: what the scan must equal.
        func naive(_ q: LogQuery, after: LogID?, limit: Int) -> [LogID] {
            let matching = written.map(\.record).filter { r in
                guard r.logged, r.account == q.account, !deleted.contains(r.id) else { return false }
                if let g = q.gateway, r.gateway != g { return false }
                if let p = q.provider, r.provider != p { return false }
                if let m = q.model, r.model != m { return false }
                if let s = q.statusCode, r.statusCode != s { return false }
                if let s = q.success, r.success != s { return false }
                if let s = q.stream, r.stream != s { return false }
                if let c = q.cached, r.cached != c { return false }
                if let f = q.feedback, annotations[r.id]?.feedback != f { return false }
                if let e = q.eventID, r.eventID != e, !(r.eventID == nil && r.id.description == e) { return false }
                let shown = annotations[r.id]?.metadata ?? r.metadata
                for (key, value) in q.metadata {
                    let found = shown.contains { entry in
                        guard entry.key == key else { return false }
                        switch entry.value {
                        case .string(let text): return text == value
                        case .bool(let flag): return (flag ? "true" : "false") == value
                        case .number(let number):
                            return (number == number.rounded() ? String(Int64(number)) : "\(number)") == value
                        }
                    }
                    if !found { return false }
                }
                if let from = q.from, r.id < LogID.lowerBound(milliseconds: from) { return false }
                if let to = q.to, !(r.id < LogID.lowerBound(milliseconds: to)) { return false }
                if let after, q.order == .ascending ? !(after < r.id) : !(r.id < after) { return false }
                return true
            }
            let sorted = matching.map(\.id).sorted()
            return Array((q.order == .ascending ? sorted : sorted.reversed()).prefix(limit))
        }

        func scan(_ q: LogQuery, after: LogID?, limit: Int) -> [Int] {
            LogColumnScan(query: q, after: after).rows(
                of: columns, deleted: deleted, annotations: annotations, limit: limit)
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func listingEqualsNaiveFilter(seed: UInt64) throws {
        let f = try Fixture(seed: seed)
        defer { f.dir.remove() }
        var random = SplitMix64(seed: seed)
        func maybe<T>(_ values: [T]) -> T? {
            random.next() % 3 == 0 ? values[Int(random.next() % UInt64(values.count))] : nil
        }
        let records = f.written.map(\.record)
        let times = records.map(\.createdAt).sorted()
        for _ in 0..<300 {
            var q = LogQuery(account: random.next() % 4 == 0 ? "other" : "default")
            q.gateway = maybe(["prod", "staging", "edge", "nowhere"])
            q.provider = maybe(["openai", "anthropic", "groq"])
            q.model = maybe(RecordFactory.models.map(\.1) + ["unknown-model"])
            q.statusCode = maybe([200, 429, 500, 404])
            q.success = maybe([true, false])
            q.stream = maybe([true, false])
            q.cached = maybe([true, false])
            q.feedback = random.next() % 6 == 0 ? (random.next() % 2 == 0 ? 1 : -1) : nil
            if random.next() % 6 == 0 {
                q.eventID =
                    ["evt-a", "evt-b", "evt-zzz", records[Int(random.next() % UInt64(records.count))].id.description][
                        Int(random.next() % 4)]
            }
            if random.next() % 5 == 0 { q.metadata["user"] = ["u1", "u2", "u3"][Int(random.next() % 3)] }
            if random.next() % 8 == 0 { q.metadata["tries"] = ["1", "2", "2.5"][Int(random.next() % 3)] }
            if random.next() % 8 == 0 { q.metadata["beta"] = ["true", "false"][Int(random.next() % 2)] }
            if random.next() % 4 == 0 { q.from = times[Int(random.next() % UInt64(times.count))] }
            if random.next() % 4 == 0 { q.to = times[Int(random.next() % UInt64(times.count))] + 1 }
            q.order = random.next() % 2 == 0 ? .ascending : .descending
            let limit = 1 + Int(random.next() % 40)

            // Page through to the end: the pages joined equal the naive filter, in order, with no repeats.
            let everything = f.naive(q, after: nil, limit: Int.max)
            var listed: [LogID] = []
            var after: LogID?
            for _ in 0...(everything.count / limit + 1) {
                let rows = f.scan(q, after: after, limit: limit)
                #expect(rows.map { f.columns.block.ids[$0] } == f.naive(q, after: after, limit: limit))
                listed += rows.map { f.columns.block.ids[$0] }
                guard rows.count == limit, let last = listed.last else { break }
                after = last
            }
            #expect(listed == everything, "query \(q)")
        }
    }

    @Test(arguments: [(5, 37, 2), (6, 120, 8), (7, 1, 3)] as [(UInt64, Int, Int)])
    func aListingAcrossSegmentsEqualsTheNaiveFilter(seed: UInt64, rotateEvery: Int, cachedSegments: Int) throws {
        let f = try Fixture(seed: seed, count: rotateEvery == 1 ? 60 : 400, rotateEvery: rotateEvery)
        defer { f.dir.remove() }
        let listing = SegmentListing(reader: SegmentReader(directory: f.dir.path), cachedSegments: cachedSegments)
        let summaries = try f.sealed.compactMap { SegmentSummary(try listing.columns(of: $0).block) }
        #expect(summaries.count > 1)
        var random = SplitMix64(seed: seed)
        for _ in 0..<120 {
            var q = LogQuery(account: random.next() % 4 == 0 ? "other" : "default")
            if random.next() % 3 == 0 { q.gateway = ["prod", "staging", "edge"][Int(random.next() % 3)] }
            if random.next() % 3 == 0 { q.model = RecordFactory.models[Int(random.next() % 6)].1 }
            if random.next() % 3 == 0 { q.statusCode = [200, 500][Int(random.next() % 2)] }
            if random.next() % 5 == 0 { q.feedback = 1 }
            q.order = random.next() % 2 == 0 ? .ascending : .descending
            let limit = 1 + Int(random.next() % 30)
            let everything = f.naive(q, after: nil, limit: Int.max)
            var listed: [LogID] = []
            var after: LogID?
            for _ in 0...(everything.count / limit + 1) {
                let page = try listing.page(
                    q, after: after, limit: limit, segments: summaries.shuffled(using: &random),
                    deleted: { _ in f.deleted }, annotations: { _ in f.annotations })
                #expect(page.map(\.id) == f.naive(q, after: after, limit: limit))
                listed += page.map(\.id)
                guard page.count == limit, let last = listed.last else { break }
                after = last
            }
            #expect(listed == everything)
        }
    }

    @Test func anEventListsItsAttemptsAndTheLogWhoseIdItIs() throws {
        let f = try Fixture(seed: 4)
        defer { f.dir.remove() }
        var checked = 0
        for (_, record) in f.written {
            for event in [record.id.description, record.eventID].compactMap({ $0 }) {
                var q = LogQuery(account: record.account, limit: 1000)
                q.eventID = event
                let listed = f.scan(q, after: nil, limit: 1000).map { f.columns.block.ids[$0] }
                #expect(listed == f.naive(q, after: nil, limit: 1000))
                checked += listed.count
            }
        }
        #expect(checked > f.written.count / 2)
    }

    @Test func rowsReadAsTheirRecordsIndexEntries() throws {
        let f = try Fixture(seed: 9, count: 200)
        defer { f.dir.remove() }
        let byID = Dictionary(f.written.map { ($0.record.id, $0) }, uniquingKeysWith: { a, _ in a })
        for row in f.scan(LogQuery(account: "default", limit: 1000), after: nil, limit: 1000) {
            let id = f.columns.block.ids[row]
            let (location, record) = try #require(byID[id])
            let annotation = f.annotations[id]
            var expected = LogIndexEntry(record, location: location, price: 1234)
            expected.annotation = annotation
            #expect(
                LogIndexEntry(
                    columns: f.columns.block, row: row, cost: expected.cost, saved: expected.saved,
                    annotation: annotation) == expected)
        }
    }

    @Test func aRecordAppendedTwiceIsListedOnce() throws {
        var factory = RecordFactory(seed: 11)
        let records = (0..<5).map { _ in factory.record() }
        var block = ColumnBlock(segment: 2)
        for (row, record) in (records + [records[2], records[4]]).enumerated() {
            block.append(record, at: RecordLocation(segment: 2, offset: UInt64(16 + row * 10), length: 10))
        }
        let columns = SegmentColumns(block)
        for order in [LogQuery.Order.ascending, .descending] {
            let scan = LogColumnScan(query: LogQuery(account: "default", order: order), after: nil)
            let rows = scan.rows(of: columns, limit: 100)
            let ids = records.map(\.id).sorted()
            #expect(rows.map { block.ids[$0] } == (order == .ascending ? ids : ids.reversed()))
            #expect(rows.allSatisfy { $0 < 5 })  // the first appended answers
        }
    }

    @Test func aSegmentSealedBeforeTheListingColumnsSaysSo() throws {
        var block = ColumnBlock(segment: 4)
        var factory = RecordFactory(seed: 4)
        for row in 0..<20 {
            block.append(factory.record(), at: RecordLocation(segment: 4, offset: UInt64(16 + row * 10), length: 10))
        }
        // The columns frame as written before tags 22 and on: without them.
        var old = WireWriter()
        let full = block.encode()
        try full.withUnsafeBytes { raw in
            var r = WireReader(raw)
            old.u8(try r.u8())
            old.varint(try r.varint())
            while !r.isAtEnd {
                let tag = try r.varint()
                let bytes = try r.bytes(try r.length())
                if tag < LogColumn.field(.method).tag {
                    old.varint(tag)
                    old.lengthPrefixed(bytes)
                }
            }
        }
        let decoded = try old.bytes.withUnsafeBytes { try ColumnBlock.decode($0, segment: 4) }
        #expect(!decoded.hasListingColumns)
        #expect(decoded == block.restricted(to: decoded.present))
        #expect(decoded.flags(.logged).allSatisfy { $0 } && decoded.integers(.attempt).allSatisfy { $0 == 1 })
        #expect(try full.withUnsafeBytes { try ColumnBlock.decode($0, segment: 4) }.hasListingColumns)
    }
}
