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
    func sealedLogs(account: String, from: Int64, to: Int64, after: LogID?, limit: Int, cached: Bool? = false)
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
    ) throws -> [LogIndexEntry] {
        // The sealed segments' share, without custom-cost logs (their cost is their own), at most `limit`.
        var sealed: [LogIndexEntry] = []
        var sealedAfter = after
        while sealed.count < limit {
            let page = try sealedLogs(account: account, from: from, to: to, after: sealedAfter, limit: limit)
            sealed += page.filter { !$0.customCost }
            guard page.count == limit, let last = page.last else { break }
            sealedAfter = last.id
        }
        let rows = try read { db in
            try logRows(
                NamedQueries.sql("reprice_page"),
                [
                    .text(account), .blob(after?.bytes ?? Self.exclusiveLowerBound(from)),
                    .blob(Self.idBound(milliseconds: to)), .integer(Int64(limit)),
                ], account: account, in: db)
        }
        return Self.merged(rows, Array(sealed.prefix(limit)), limit: limit, id: \.id)
    }

    static func logID(_ row: SQLiteStatement, at index: Int) throws -> LogID {
        guard let id = LogID(bytes: row.blob(at: index)) else {
            throw CatalogError(code: .invalidValue, message: "a log row has an id that is not 16 bytes")
        }
        return id
    }
}
