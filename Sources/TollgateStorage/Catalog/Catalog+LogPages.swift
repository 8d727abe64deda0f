import TollgateModel

extension Catalog {
    /// How many logs of `account` created in [`from`, `to`) (Unix ms) repricing visits: those priced by the price
    /// table, not by a custom cost.
    public func repriceableLogCount(account: String, from: Int64, to: Int64) throws -> Int {
        try read { db in
            try db.queryFirst(
                NamedQueries.sql("reprice_count"),
                [.text(account), .blob(Self.idBound(milliseconds: from)), .blob(Self.idBound(milliseconds: to))]
            ) { Int($0.int64(at: 0)) } ?? 0
        }
    }

    /// One page of the logs `repriceableLogCount` counts, in id order: the first `limit` of those created in
    /// [`from`, `to`) after `after` (from the start of the range when nil; a page continues after the last id of
    /// the one before).
    public func repriceableLogs(
        account: String, from: Int64, to: Int64, after: LogID?, limit: Int
    ) throws -> [RepriceableLog] {
        try read { db in
            try db.query(
                NamedQueries.sql("reprice_page"),
                [
                    .text(account), .blob(after?.bytes ?? Self.exclusiveLowerBound(from)),
                    .blob(Self.idBound(milliseconds: to)), .integer(Int64(limit)),
                ], row: Self.repriceableLog(from:))
        }
    }

    /// One page of the logs of `account` created in [`from`, `to`) (Unix ms), oldest first: the first `limit`
    /// after `after` (from the start of the range when nil).
    public func exportedLogs(
        account: String, from: Int64, to: Int64, after: LogID?, limit: Int
    ) throws -> [ExportedLog] {
        var logs: [ExportedLog] = []
        _ = try exportPage(
            account: account, after: after?.bytes ?? Self.exclusiveLowerBound(from), to: to, limit: limit,
            names: ExportedLogNames()
        ) { logs.append(try ExportedLog($0)) }
        return logs
    }

    /// Calls `body` with every log of `account` created in [`from`, `to`) (Unix ms), oldest first, straight from
    /// the statement (nothing copied), in pages of `pageSize` rows: each page is its own short read, so a long
    /// export never holds one read transaction open.
    public func forEachExportedLog(
        account: String, from: Int64, to: Int64, pageSize: Int = 50_000, _ body: (ExportedLogRow) throws -> Void
    ) throws {
        let names = ExportedLogNames()
        var after = Self.exclusiveLowerBound(from)
        while let last = try exportPage(
            account: account, after: after, to: to, limit: pageSize, names: names, body)
        {
            after = last.bytes
        }
    }

    /// One page of `Queries/export_logs.sql`; the id of its last row when it was full (there may be more).
    private func exportPage(
        account: String, after: [UInt8], to: Int64, limit: Int, names: ExportedLogNames,
        _ body: (ExportedLogRow) throws -> Void
    ) throws -> LogID? {
        try read { db in
            let statement = try db.cachedStatement(NamedQueries.sql("export_logs"))
            defer { statement.reset() }
            try statement.bind([
                .text(account), .blob(after), .blob(Self.idBound(milliseconds: to)), .integer(Int64(limit)),
            ])
            let row = ExportedLogRow(statement: statement, connection: db, names: names)
            var count = 0
            var last = LogID(high: 0, low: 0)
            while try statement.step() {
                try body(row)
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
