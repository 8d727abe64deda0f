import TollgateModel

extension Catalog {
    /// How many logs of `account` created in [`from`, `to`) (Unix ms) repricing visits: those priced by the price
    /// table, not by a custom cost.
    public func repriceableLogCount(account: String, from: Int64, to: Int64) throws -> Int {
        var sealed = 0
        var after: LogID?
        while true {
            let page = try sealedLogs(
                account: account, from: from, to: to, after: after, limit: LogQuery.limits.upperBound)
            sealed += page.filter { !$0.customCost }.count
            guard page.count == LogQuery.limits.upperBound, let last = page.last else { break }
            after = last.id
        }
        return sealed
            + (try read { db in
                try db.queryFirst(
                    NamedQueries.sql("reprice_count"),
                    [.text(account), .blob(Self.idBound(milliseconds: from)), .blob(Self.idBound(milliseconds: to))]
                ) { Int($0.int64(at: 0)) } ?? 0
            })
    }

    /// The logs of `account` in sealed segments created in [`from`, `to`), oldest first, after `after` (cached
    /// ones excluded: a cache hit is never repriced).
    private func sealedLogs(account: String, from: Int64, to: Int64, after: LogID?, limit: Int, cached: Bool? = false)
        throws -> [LogIndexEntry]
    {
        guard !sealedLogs.isEmpty else { return [] }
        var query = LogQuery(account: account, from: from, to: to, order: .ascending, limit: limit)
        query.cached = cached
        return try sealedPage(query, after: after, limit: limit)
    }

    /// The first `limit` of the merged pages (`a` and `b` each in id order), in id order.
    private static func merged<T>(_ a: [T], _ b: [T], limit: Int, id: (T) -> LogID) -> [T] {
        guard !b.isEmpty else { return a }
        return Array((a + b).sorted { id($0) < id($1) }.prefix(limit))
    }

    /// One page of the logs `repriceableLogCount` counts, in id order: the first `limit` of those created in
    /// [`from`, `to`) after `after` (from the start of the range when nil; a page continues after the last id of
    /// the one before).
    public func repriceableLogs(
        account: String, from: Int64, to: Int64, after: LogID?, limit: Int
    ) throws -> [RepriceableLog] {
        // The sealed segments' share, without custom-cost logs (their cost is their own), at most `limit`.
        var sealed: [RepriceableLog] = []
        var sealedAfter = after
        while sealed.count < limit {
            let page = try sealedLogs(account: account, from: from, to: to, after: sealedAfter, limit: limit)
            sealed += page.filter { !$0.customCost }.map {
                RepriceableLog(
                    id: $0.id, gateway: $0.gateway, provider: $0.provider, model: $0.model, createdAt: $0.createdAt,
                    statusCode: $0.statusCode, success: $0.success, durationMicros: $0.durationMicros,
                    ttftMicros: $0.ttftMicros, usage: $0.usage, cost: $0.cost)
            }
            guard page.count == limit, let last = page.last else { break }
            sealedAfter = last.id
        }
        let rows = try read { db in
            try db.query(
                NamedQueries.sql("reprice_page"),
                [
                    .text(account), .blob(after?.bytes ?? Self.exclusiveLowerBound(from)),
                    .blob(Self.idBound(milliseconds: to)), .integer(Int64(limit)),
                ], row: Self.repriceableLog(from:))
        }
        return Self.merged(rows, Array(sealed.prefix(limit)), limit: limit, id: \.id)
    }

    /// One page of the logs of `account` created in [`from`, `to`) (Unix ms), oldest first: the first `limit`
    /// after `after` (from the start of the range when nil).
    public func exportedLogs(
        account: String, from: Int64, to: Int64, after: LogID?, limit: Int
    ) throws -> [ExportedLog] {
        var logs: [ExportedLog] = []
        try forEachExportedLog(account: account, from: from, to: to, after: after) { row in
            guard logs.count < limit else { return false }
            logs.append(try ExportedLog(row))
            return true
        }
        return logs
    }

    /// Calls `body` with every log of `account` created in [`from`, `to`) (Unix ms), oldest first: the `logs` rows
    /// straight from the statement (nothing copied), in pages of `pageSize` rows, each its own short read so a long
    /// export never holds one read transaction open; the sealed segments' logs (`sealedPage`) merged in by id.
    public func forEachExportedLog(
        account: String, from: Int64, to: Int64, pageSize: Int = 50_000, _ body: (ExportedLogRow) throws -> Void
    ) throws {
        try forEachExportedLog(account: account, from: from, to: to, after: nil, pageSize: pageSize) {
            try body($0)
            return true
        }
    }

    /// `forEachExportedLog` after `after`, until `body` returns false.
    private func forEachExportedLog(
        account: String, from: Int64, to: Int64, after: LogID?, pageSize: Int = 50_000,
        _ body: (ExportedLogRow) throws -> Bool
    ) throws {
        let names = ExportedLogNames(catalog: self)
        let end = Self.idBound(milliseconds: to)
        var rowsAfter = after?.bytes ?? Self.exclusiveLowerBound(from)
        // Sealed segments' logs, a chunk at a time, read before each page of rows (never inside its read).
        var sealedAfter = after
        var sealedDone = sealedLogs.isEmpty
        var chunk: [ExportedLogValues] = []
        var next = 0
        let chunkSize = LogQuery.limits.upperBound
        while true {
            if next == chunk.count && !sealedDone {
                let page = try sealedLogs(
                    account: account, from: from, to: to, after: sealedAfter, limit: chunkSize, cached: nil)
                chunk = try page.map { try ExportedLogValues(Self.exportedLog($0), names: names) }
                next = 0
                sealedAfter = page.last?.id
                sealedDone = page.count < chunkSize
            }
            // Rows up to the chunk's last id now (or to the end when no sealed log is left), the chunk's logs
            // between them in id order.
            let bound = next < chunk.count && !sealedDone ? chunk[chunk.count - 1].id.bytes : end
            var stopped = false
            let last = try exportPage(account: account, after: rowsAfter, upper: bound, limit: pageSize, names: names) {
                row in
                let id = row.id
                while next < chunk.count, chunk[next].id < id {
                    guard try body(ExportedLogRow(values: chunk[next], names: names)) else {
                        stopped = true
                        return false
                    }
                    next += 1
                }
                guard try body(row) else {
                    stopped = true
                    return false
                }
                return true
            }
            if stopped { return }
            if let last {
                rowsAfter = last.bytes  // a full page: more rows below the bound
                continue
            }
            // No row left below the bound: the chunk's remaining logs come next.
            while next < chunk.count {
                guard try body(ExportedLogRow(values: chunk[next], names: names)) else { return }
                next += 1
            }
            if sealedDone && bound == end { return }
            rowsAfter = bound.count == 16 ? bound : rowsAfter
        }
    }

    /// An export row of a sealed segment's log.
    private static func exportedLog(_ e: LogIndexEntry) -> ExportedLog {
        ExportedLog(
            id: e.id, createdAt: e.createdAt, gateway: e.gateway, provider: e.provider, model: e.model,
            method: e.method, path: e.path, statusCode: e.statusCode, success: e.success, stream: e.stream,
            durationMicros: e.durationMicros, ttftMicros: e.ttftMicros, usage: e.usage, cost: e.cost,
            customCost: e.customCost, error: e.error, eventID: e.eventID, attempt: e.attempt, step: e.step,
            cached: e.cached, saved: e.saved, feedback: e.annotation?.feedback, score: e.annotation?.score)
    }

    /// One page of `Queries/export_logs.sql`: rows after `after` and below `upper`, until `body` returns false;
    /// the id of its last row when it was full (there may be more).
    private func exportPage(
        account: String, after: [UInt8], upper: [UInt8], limit: Int, names: ExportedLogNames,
        _ body: (ExportedLogRow) throws -> Bool
    ) throws -> LogID? {
        try read { db in
            let statement = try db.cachedStatement(NamedQueries.sql("export_logs"))
            defer { statement.reset() }
            try statement.bind([.text(account), .blob(after), .blob(upper), .integer(Int64(limit))])
            let row = ExportedLogRow(statement: statement, connection: db, names: names)
            var count = 0
            var last = LogID(high: 0, low: 0)
            while try statement.step() {
                guard try body(row) else { return nil }
                last = row.id
                count += 1
            }
            return count == limit ? last : nil
        }
    }

    static func logID(_ row: SQLiteStatement, at index: Int) throws -> LogID {
        guard let id = LogID(bytes: row.blob(at: index)) else {
            throw CatalogError(code: .invalidValue, message: "a log row has an id that is not 16 bytes")
        }
        return id
    }

    /// The usage columns of a log row, which every statement selects together in this order from `index` on:
    /// tokens_in, cached_tokens_in, cache_write_tokens, cache_write_1h_tokens, tokens_out, reasoning_tokens,
    /// service_tier.
    static func usage(_ row: SQLiteStatement, from index: Int) -> Usage {
        Usage(
            tokensIn: row.optionalInt64(at: index), cachedTokensIn: row.optionalInt64(at: index + 1),
            cacheWriteTokens: row.optionalInt64(at: index + 2), cacheWrite1hTokens: row.optionalInt64(at: index + 3),
            tokensOut: row.optionalInt64(at: index + 4), reasoningTokens: row.optionalInt64(at: index + 5),
            serviceTier: row.optionalString(at: index + 6))
    }

    /// Reads a row of `Queries/reprice_page.sql`.
    private static func repriceableLog(from row: SQLiteStatement) throws -> RepriceableLog {
        RepriceableLog(
            id: try logID(row, at: 0), gateway: row.string(at: 1), provider: row.string(at: 2),
            model: row.optionalString(at: 3), createdAt: row.int64(at: 4), statusCode: Int(row.int64(at: 5)),
            success: row.int64(at: 6) != 0, durationMicros: row.int64(at: 7), ttftMicros: row.optionalInt64(at: 8),
            usage: usage(row, from: 9),
            cost: row.optionalInt64(at: 16))
    }
}
