import Synchronization
import TollgateModel

extension Catalog {
    /// The listing statement for a query's shape (`Queries/logs_list.sql`), made once per shape.
    static func listSQL(_ shape: ListShape) -> String {
        if let sql = listStatements.withLock({ $0[shape] }) { return sql }
        let sql = NamedQueries.sql("logs_list", when: shape.conditions)
        listStatements.withLock { $0[shape] = sql }
        return sql
    }

    private static let listStatements = Mutex<[ListShape: String]>([:])

    struct ListShape: Hashable {
        var gateway = false
        var provider = false
        var model = false
        var statusCode = false
        var success = false
        var stream = false
        var cached = false
        var feedback = false
        var eventID = false
        var metadata = false
        var from = false
        var to = false
        var cursor = false
        var ascending = false

        /// The names `Queries/logs_list.sql` tests, of the parts present.
        var conditions: Set<String> {
            let parts: [(Bool, String)] = [
                (gateway, "gateway"), (provider, "provider"), (model, "model"), (statusCode, "status_code"),
                (success, "success"), (stream, "stream"), (cached, "cached"), (feedback, "feedback"),
                (eventID, "event_id"), (metadata, "metadata"), (from, "from"), (to, "to"), (cursor, "cursor"),
                (ascending, "ascending"),
            ]
            return Set(parts.filter(\.0).map(\.1))
        }
    }

    // MARK: Insert

    /// Adds entries to the log index in one transaction. An entry whose (account, id) is already indexed is skipped,
    /// so recovery may insert the same entries again. Returns how many were new.
    @discardableResult
    public func insertLogs(_ entries: [LogIndexEntry]) throws -> Int {
        guard !entries.isEmpty else { return 0 }
        return try write { db in
            try db.transaction { () throws -> Int in try Self.insertRows(entries, counting: true, in: db) }
        }
    }

    /// Inserts `logs` rows inside the caller's transaction, adding the new ones to `log_counts` when `counting`.
    static func insertRows(_ entries: [LogIndexEntry], counting: Bool, in db: SQLiteConnection) throws -> Int {
        let statement = try db.cachedStatement(NamedQueries.sql("log_insert"))
        defer { statement.reset() }
        var names = LogNames()
        var inserted = 0
        var counts: [MonthKey: Int64] = [:]
        for entry in entries {
            let ids = (
                gateway: try names.id(of: entry.gateway, in: db),
                provider: try names.id(of: entry.provider, in: db),
                model: try entry.model.map { try names.id(of: $0, in: db) }
            )
            try Self.bind(entry, names: ids, to: statement)
            try statement.run()
            if db.changes > 0 {
                inserted += 1
                counts[
                    MonthKey(account: entry.account, start: UTCMonth.start(of: entry.createdAt)), default: 0] +=
                    1
            }
            statement.reset()
        }
        for (key, count) in counts where counting {
            try db.run(
                NamedQueries.sql("log_counts_add"), [.text(key.account), .integer(key.start), .integer(count)])
        }
        return inserted
    }

    /// The ids of the names in `log_names` met by one insert transaction, looked up (and added) once each.
    private struct LogNames {
        private var ids: [String: Int64] = [:]

        mutating func id(of name: String, in db: SQLiteConnection) throws -> Int64 {
            if let id = ids[name] { return id }
            try db.run(NamedQueries.sql("log_name_insert"), [.text(name)])
            guard let id = try db.queryFirst(NamedQueries.sql("log_name_id"), [.text(name)], row: { $0.int64(at: 0) })
            else {
                throw CatalogError(code: .invalidValue, message: "a log name was added but cannot be read back")
            }
            ids[name] = id
            return id
        }
    }

    private static func bind(
        _ entry: LogIndexEntry, names: (gateway: Int64, provider: Int64, model: Int64?), to statement: SQLiteStatement
    ) throws {
        try statement.bind(entry.account, named: ":account")
        try statement.bind(entry.id.bytes, named: ":id")
        try statement.bind(names.gateway, named: ":gateway")
        try statement.bind(names.provider, named: ":provider")
        try statement.bind(names.model, named: ":model")
        try statement.bind(entry.createdAt, named: ":created_at")
        try statement.bind(entry.method, named: ":method")
        try statement.bind(entry.path, named: ":path")
        try statement.bind(entry.statusCode, named: ":status_code")
        try statement.bind(entry.success, named: ":success")
        try statement.bind(entry.stream, named: ":stream")
        try statement.bind(entry.durationMicros, named: ":duration_us")
        try statement.bind(entry.ttftMicros, named: ":ttft_us")
        try statement.bind(entry.usage.tokensIn, named: ":tokens_in")
        try statement.bind(entry.usage.cachedTokensIn, named: ":cached_tokens_in")
        try statement.bind(entry.usage.cacheWriteTokens, named: ":cache_write_tokens")
        try statement.bind(entry.usage.cacheWrite1hTokens, named: ":cache_write_1h_tokens")
        try statement.bind(entry.usage.tokensOut, named: ":tokens_out")
        try statement.bind(entry.usage.reasoningTokens, named: ":reasoning_tokens")
        try statement.bind(entry.usage.serviceTier, named: ":service_tier")
        try statement.bind(entry.requestSize, named: ":request_size")
        try statement.bind(entry.responseSize, named: ":response_size")
        try statement.bind(entry.error, named: ":error")
        try statement.bind(LogMetadataJSON.encode(entry.metadata), named: ":metadata")
        try statement.bind(entry.payloadStored, named: ":payload_stored")
        try statement.bind(Int64(entry.location.segment), named: ":segment")
        try statement.bind(Int64(bitPattern: entry.location.offset), named: ":segment_offset")
        try statement.bind(Int64(entry.location.length), named: ":record_length")
        try statement.bind(entry.cost, named: ":cost")
        try statement.bind(entry.customCost, named: ":custom_cost")
        try statement.bind(entry.eventID, named: ":event_id")
        try statement.bind(entry.attempt == 1 ? nil : Int64(entry.attempt), named: ":attempt")
        try statement.bind(entry.step.map { Int64($0) }, named: ":step")
        try statement.bind(entry.cached, named: ":cached")
        try statement.bind(entry.saved, named: ":saved")
    }

    /// The log rows of `account` that `sql` selects (`LogRowReader`), run on `db` with `values`.
    func logRows(_ sql: String, _ values: [SQLiteValue], account: String, in db: SQLiteConnection) throws
        -> [LogIndexEntry]
    {
        var reader = LogRowReader(account: account, names: logNames)
        return try db.query(sql, values) { try reader.entry($0, connection: db) }
    }

    /// The first log row of `account` that `sql` selects (`LogRowReader`), run on `db` with `values`; nil when it
    /// selects none.
    func logRow(_ sql: String, _ values: [SQLiteValue], account: String, in db: SQLiteConnection) throws
        -> LogIndexEntry?
    {
        var reader = LogRowReader(account: account, names: logNames)
        return try db.queryFirst(sql, values) { try reader.entry($0, connection: db) }
    }

    /// Logs of `account` stored with `created_at` in the UTC month that starts at `monthStart` (Unix ms), exact.
    public func storedLogs(account: String, monthStart: Int64) throws -> Int64 {
        try read { db in
            try db.queryFirst(NamedQueries.sql("log_counts_month"), [.text(account), .integer(monthStart)]) {
                $0.int64(at: 0)
            } ?? 0
        }
    }

    struct MonthKey: Hashable {
        var account: String
        var start: Int64
    }

    // MARK: Read

    /// One page of an account's logs, newest or oldest first, continuing after `query.cursor`.
    ///
    /// Pages are cut by id (keyset pagination), so rows inserted while a client pages never cause a duplicate or a
    /// gap among the rows that existed when it started. `nextCursor` is nil on the last page.
    ///
    /// - Throws: `CatalogError` `.invalidLimit` (limit outside 1…1000), `.invalidCursor` (a cursor not made by
    ///   `listLogs`, or made for the other order).
    public func listLogs(_ query: LogQuery) throws -> LogPage {
        let (sql, values) = try Self.listStatement(query)
        var rows = try read { db in try logRows(sql, values, account: query.account, in: db) }
        if !sealedLogs.isEmpty {
            // The logs of sealed segments that answer for themselves, merged by id.
            let after = query.cursor.flatMap(LogCursor.init(encoded:))?.lastID
            rows += try sealedPage(query, after: after, limit: query.limit + 1)
            rows.sort { query.order == .ascending ? $0.id < $1.id : $1.id < $0.id }
            if rows.count > query.limit + 1 { rows.removeLast(rows.count - query.limit - 1) }
        }
        guard rows.count > query.limit else { return LogPage(entries: rows, nextCursor: nil) }
        let page = Array(rows.prefix(query.limit))
        let cursor = LogCursor(lastID: page[page.count - 1].id, order: query.order)
        return LogPage(entries: page, nextCursor: cursor.encoded)
    }

    /// The listing SQL for `query` and the values to bind, in order. One row more than the limit is asked for, to
    /// know whether another page follows.
    static func listStatement(_ query: LogQuery) throws -> (sql: String, values: [SQLiteValue]) {
        guard LogQuery.limits.contains(query.limit) else {
            throw CatalogError(
                code: .invalidLimit, parameter: "limit",
                message: "limit must be between \(LogQuery.limits.lowerBound) and \(LogQuery.limits.upperBound)"
            )
        }
        var cursor: LogCursor?
        if let text = query.cursor {
            guard let decoded = LogCursor(encoded: text) else {
                throw CatalogError(code: .invalidCursor, parameter: "cursor", message: "cursor is not valid")
            }
            guard decoded.order == query.order else {
                throw CatalogError(
                    code: .invalidCursor, parameter: "cursor",
                    message: "cursor was made for order \(decoded.order.rawValue), not \(query.order.rawValue)"
                )
            }
            cursor = decoded
        }
        var shape = ListShape()
        var values: [SQLiteValue] = [.text(query.account)]
        if let gateway = query.gateway {
            shape.gateway = true
            values.append(.text(gateway))
        }
        if let provider = query.provider {
            shape.provider = true
            values.append(.text(provider))
        }
        if let model = query.model {
            shape.model = true
            values.append(.text(model))
        }
        if let statusCode = query.statusCode {
            shape.statusCode = true
            values.append(.integer(Int64(statusCode)))
        }
        if let success = query.success {
            shape.success = true
            values.append(.bool(success))
        }
        if let stream = query.stream {
            shape.stream = true
            values.append(.bool(stream))
        }
        if let cached = query.cached {
            shape.cached = true
            values.append(.bool(cached))
        }
        if let feedback = query.feedback {
            shape.feedback = true
            values.append(.integer(Int64(feedback)))
        }
        if let eventID = query.eventID {
            shape.eventID = true
            // The first attempt of an event the gateway named has no event_id: its own id is the event's.
            values += [
                .text(query.account), .text(eventID), .text(query.account),
                LogID(eventID).map { .blob($0.bytes) } ?? .null,
            ]
        }
        if !query.metadata.isEmpty {
            shape.metadata = true
            var filter = "{"
            for (index, entry) in query.metadata.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { filter += "," }
                filter += JSONText.quoted(entry.key) + ":" + JSONText.quoted(entry.value)
            }
            values += [.text(filter + "}"), .integer(Int64(query.metadata.count))]
        }
        if let from = query.from {
            shape.from = true
            values.append(.blob(idBound(milliseconds: from)))
        }
        if let to = query.to {
            shape.to = true
            values.append(.blob(idBound(milliseconds: to)))
        }
        if let cursor {
            shape.cursor = true
            values.append(.blob(cursor.lastID.bytes))
        }
        shape.ascending = query.order == .ascending
        values.append(.integer(Int64(query.limit + 1)))
        return (listSQL(shape), values)
    }

    /// The smallest id of the given millisecond: ids made at or after it compare greater or equal.
    static func idBound(milliseconds: Int64) -> [UInt8] {
        LogID.lowerBound(milliseconds: milliseconds).bytes
    }

    /// The index entry of one log, or nil when the account has no log with this id.
    public func logEntry(account: String, id: LogID) throws -> LogIndexEntry? {
        try log(account: account, id: id)?.entry
    }

    /// The index entry of one log, with its stored record when finding the entry read it (a log of a sealed segment
    /// whose columns are not in memory); nil when the account has no log with this id.
    public func log(account: String, id: LogID) throws -> (entry: LogIndexEntry, record: LogRecord?)? {
        let row = try read { db in
            try logRow(NamedQueries.sql("log_get"), [.text(account), .blob(id.bytes)], account: account, in: db)
        }
        if let row { return (row, nil) }
        return try sealedLog(account: account, id: id)
    }

    /// The highest record offset indexed for a segment, or nil when none of its records is indexed. Recovery
    /// re-indexes the records after it.
    public func maxIndexedOffset(segment: UInt32) throws -> UInt64? {
        try read { db in
            try db.queryFirst(NamedQueries.sql("log_max_offset"), [.integer(Int64(segment))]) { row in
                row.optionalInt64(at: 0).map { UInt64(bitPattern: $0) }
            } ?? nil
        }
    }

    /// The location of the last record indexed for a segment (its offset plus length is where the next record
    /// starts), or nil when none of its records is indexed.
    public func lastIndexedLocation(segment: UInt32) throws -> RecordLocation? {
        try read { db in
            try db.queryFirst(NamedQueries.sql("log_last_location"), [.integer(Int64(segment))]) { row in
                RecordLocation(
                    segment: segment, offset: UInt64(bitPattern: row.int64(at: 0)),
                    length: UInt32(truncatingIfNeeded: row.int64(at: 1))
                )
            }
        }
    }
}

// MARK: Delete

extension Catalog {
    /// Logs deleted per transaction by `deleteLogs(matching:)`.
    public static let deletionBatchSize = 1_000

    /// Deletes the logs of `query.account` matching its filters (gateway, provider, model, status code, success,
    /// stream, from, to; order, limit and cursor are ignored) from the index, in batches of `batchSize` logs, one
    /// transaction each, so the catalog's writer (and the ingest commit waiting for it) is never held for long.
    /// Each batch deletes the index rows, leaves a tombstone per log for compaction and recovery, and decrements
    /// the month's stored-log count (`log_counts`): a deleted log no longer counts against the quota.
    ///
    /// When this returns, no log that matched when it started is listed. Returns how many were deleted;
    /// `progress` gets the running total after each batch.
    @discardableResult
    ///
    /// - Parameter atMost: deletes only the oldest `atMost` matching logs (`delete_oldest` quotas).
    public func deleteLogs(
        matching query: LogQuery, batchSize: Int = Catalog.deletionBatchSize, atMost: Int? = nil,
        progress: (Int) -> Void = { _ in }
    ) throws -> Int {
        // Sealed segments first: they hold the oldest logs.
        var total = 0
        var sealedQuery = query
        sealedQuery.order = .ascending
        sealedQuery.cursor = nil
        func deleteSealedLogs() throws {
            var sealedAfter: LogID?
            while !sealedLogs.isEmpty, atMost.map({ total < $0 }) ?? true {
                let size = min(batchSize, LogQuery.limits.upperBound, atMost.map { $0 - total } ?? batchSize)
                let page = try sealedPage(sealedQuery, after: sealedAfter, limit: size)
                guard let last = page.last else { break }
                total += try write { db in
                    try db.transaction { try Self.deleteSealed(page, account: query.account, in: db) }
                }
                progress(total)
                sealedAfter = last.id
                if page.count < size { break }
            }
        }
        try deleteSealedLogs()
        var after = Self.exclusiveLowerBound(query.from)
        let upper = query.to.map(Self.idBound(milliseconds:)) ?? [UInt8](repeating: 0xFF, count: 17)
        let filters: [SQLiteValue] = [
            .text(query.gateway), .text(query.provider), .text(query.model),
            .integer(query.statusCode.map { Int64($0) }), .integer(query.success.map { $0 ? 1 : 0 }),
            .integer(query.stream.map { $0 ? 1 : 0 }),
        ]
        while atMost.map({ total < $0 }) ?? true {
            let size = min(batchSize, atMost.map { $0 - total } ?? batchSize)
            let bound = after
            let batch = try write { db in
                try db.transaction { () throws -> (count: Int, last: [UInt8]?) in
                    let rows = try db.query(
                        NamedQueries.sql("logs_delete_batch"),
                        [.text(query.account), .blob(bound), .blob(upper)] + filters + [.integer(Int64(size))],
                        row: DeletedRow.init)
                    try Self.delete(rows, account: query.account, in: db)
                    return (rows.count, rows.last?.id)
                }
            }
            total += batch.count
            progress(total)
            guard batch.count == size, let last = batch.last else { break }
            after = last
        }
        // A segment sealed while the rows were being deleted took its rows not yet deleted with it.
        try deleteSealedLogs()
        return total
    }

    /// Changes the annotation of one log in one transaction: `change` gets the annotation as stored (empty when
    /// none), and what it leaves is written (an empty one deletes the row). Returns the log's entry as it now reads,
    /// or nil when the account has no such log (nothing is written then).
    public func annotateLog(
        account: String, id: LogID, at now: Int64, _ change: (inout LogAnnotation) throws -> Void
    ) throws -> LogIndexEntry? {
        try write { db in
            try db.transaction { () throws -> LogIndexEntry? in
                let key: [SQLiteValue] = [.text(account), .blob(id.bytes)]
                guard
                    let entry = try self.logRow(NamedQueries.sql("log_get"), key, account: account, in: db)
                        ?? (try self.sealedEntry(account: account, id: id))
                else { return nil }
                var annotation = entry.annotation ?? LogAnnotation()
                try change(&annotation)
                if annotation.isEmpty {
                    try db.run(NamedQueries.sql("log_annotation_delete"), key)
                } else {
                    try db.run(
                        NamedQueries.sql("log_annotation_upsert"),
                        key + [
                            .integer(annotation.feedback.map { Int64($0) }),
                            .integer(annotation.score.map { Int64($0) }),
                            .text(annotation.metadata.map { LogMetadataJSON.encode($0) ?? "{}" }), .integer(now),
                        ])
                }
                if let row = try self.logRow(NamedQueries.sql("log_get"), key, account: account, in: db) {
                    return row
                }
                var changed = entry
                changed.annotation = annotation.isEmpty ? nil : annotation
                return changed
            }
        }
    }

    /// Annotations whose log is not in the index; 0 unless something deleted a log without its annotation.
    public func orphanedAnnotations() throws -> Int64 {
        let unindexed = try read { db in
            try db.query(NamedQueries.sql("log_annotations_orphaned")) {
                LogKey(account: $0.string(at: 0), id: try Self.logID($0, at: 1))
            }
        }
        return Int64(try unindexed.filter { try sealedEntry(account: $0.account, id: $0.id) == nil }.count)
    }

    /// Sets the annotation of one log as a whole (see `annotateLog(account:id:at:_:)`).
    public func annotateLog(account: String, id: LogID, _ annotation: LogAnnotation, at now: Int64) throws
        -> LogIndexEntry?
    {
        try annotateLog(account: account, id: id, at: now) { $0 = annotation }
    }

    /// Deletes one log from the index (with its tombstone and count, in one transaction). Returns false when the
    /// account has no such log.
    @discardableResult
    public func deleteLog(account: String, id: LogID) throws -> Bool {
        let deleted = try write { db in
            try db.transaction { () throws -> Bool in
                let rows = try db.query(
                    NamedQueries.sql("logs_delete_lookup"), [.text(account), .blob(id.bytes)], row: DeletedRow.init)
                try Self.delete(rows, account: account, in: db)
                return !rows.isEmpty
            }
        }
        if deleted { return true }
        guard let entry = try sealedEntry(account: account, id: id) else { return false }
        return try write { db in try db.transaction { try Self.deleteSealed([entry], account: account, in: db) > 0 } }
    }

    /// The deleted logs whose records are still in `segment` (account and id).
    public func tombstones(segment: UInt32) throws -> Set<LogKey> {
        Set(
            try read { db in
                try db.query(NamedQueries.sql("log_tombstones_of_segment"), [.integer(Int64(segment))]) { row in
                    guard let id = LogID(bytes: row.blob(at: 1)) else {
                        throw CatalogError(code: .invalidValue, message: "a tombstone has an id that is not 16 bytes")
                    }
                    return LogKey(account: row.string(at: 0), id: id)
                }
            })
    }

    /// Segments holding deleted logs (of `account`, or of any account when nil) and how many each holds, by seq.
    public func tombstonedSegments(account: String? = nil) throws -> [(segment: UInt32, deleted: Int)] {
        try read { db in
            let row: (SQLiteStatement) -> (segment: UInt32, deleted: Int) = {
                (UInt32(truncatingIfNeeded: $0.int64(at: 0)), Int($0.int64(at: 1)))
            }
            if let account {
                return try db.query(NamedQueries.sql("log_tombstone_segments_of_account"), [.text(account)], row: row)
            }
            return try db.query(NamedQueries.sql("log_tombstone_segments"), row: row)
        }
    }

    private struct DeletedRow {
        var id: [UInt8]
        var segment: Int64
        var createdAt: Int64
        init(_ row: SQLiteStatement) {
            id = row.blob(at: 0)
            segment = row.int64(at: 1)
            createdAt = row.int64(at: 2)
        }
    }

    /// Deletes `rows` (all of `account`) from the index inside the caller's transaction.
    private static func delete(_ rows: [DeletedRow], account: String, in db: SQLiteConnection) throws {
        guard !rows.isEmpty else { return }
        let delete = try db.cachedStatement(NamedQueries.sql("logs_delete_one"))
        let tombstone = try db.cachedStatement(NamedQueries.sql("log_tombstone_insert"))
        let annotation = try db.cachedStatement(NamedQueries.sql("log_annotation_delete"))
        var months: [Int64: Int64] = [:]
        for row in rows {
            try delete.bind([.text(account), .blob(row.id)])
            try delete.run()
            delete.reset()
            try annotation.bind([.text(account), .blob(row.id)])
            try annotation.run()
            annotation.reset()
            try tombstone.bind([.integer(row.segment), .text(account), .blob(row.id)])
            try tombstone.run()
            tombstone.reset()
            months[UTCMonth.start(of: row.createdAt), default: 0] -= 1
        }
        for (start, change) in months {
            try db.run(NamedQueries.sql("log_counts_add"), [.text(account), .integer(start), .integer(change)])
        }
    }

    /// The largest id below every id of millisecond `from` (empty when there is no lower bound): `id > bound`
    /// then means `id >= lowerBound(from)`.
    public static func exclusiveLowerBound(_ from: Int64?) -> [UInt8] {
        guard let from else { return [] }
        let low = LogID.lowerBound(milliseconds: from)
        guard low.high > 0 else { return [] }
        return LogID(high: low.high - 1, low: UInt64.max).bytes
    }
}

/// A log's key in the index: its account and id.
public struct LogKey: Hashable, Sendable {
    public var account: String
    public var id: LogID
    public init(account: String, id: LogID) {
        self.account = account
        self.id = id
    }
}
