import TollgateModel

extension Catalog {
    /// One page of the logs of `account` created in [`from`, `to`) (Unix ms), oldest first: the first `limit`
    /// after `after` (from the start of the range when nil). As `forEachExportedLog` reads them.
    public func exportedLogs(
        account: String, from: Int64, to: Int64, after: LogID?, limit: Int
    ) throws -> [LogIndexEntry] {
        var logs: [LogIndexEntry] = []
        try forEachExportedLog(account: account, from: from, to: to, after: after) { entry in
            guard logs.count < limit else { return false }
            logs.append(entry)
            return true
        }
        return logs
    }

    /// Calls `body` with every log of `account` created in [`from`, `to`) (Unix ms), oldest first: the `logs` rows
    /// in pages of `pageSize` rows, each its own short read so a long export never holds one read transaction
    /// open; the sealed segments' logs (`sealedPage`) merged in by id. The rows' entries come without their
    /// metadata, which the export does not write.
    public func forEachExportedLog(
        account: String, from: Int64, to: Int64, pageSize: Int = 50_000, _ body: (LogIndexEntry) throws -> Void
    ) throws {
        try forEachExportedLog(account: account, from: from, to: to, after: nil, pageSize: pageSize) {
            try body($0)
            return true
        }
    }

    /// `forEachExportedLog` after `after`, until `body` returns false.
    private func forEachExportedLog(
        account: String, from: Int64, to: Int64, after: LogID?, pageSize: Int = 50_000,
        _ body: (LogIndexEntry) throws -> Bool
    ) throws {
        let end = Self.idBound(milliseconds: to)
        var rowsAfter = after?.bytes ?? Self.exclusiveLowerBound(from)
        // Sealed segments' logs, a chunk at a time, read before each page of rows (never inside its read).
        var sealedAfter = after
        var sealedDone = sealedLogs.isEmpty
        var chunk: [LogIndexEntry] = []
        var next = 0
        let chunkSize = LogQuery.limits.upperBound
        while true {
            if next == chunk.count && !sealedDone {
                chunk = try sealedLogs(
                    account: account, from: from, to: to, after: sealedAfter, limit: chunkSize, cached: nil)
                next = 0
                sealedAfter = chunk.last?.id
                sealedDone = chunk.count < chunkSize
            }
            // Rows up to the chunk's last id now (or to the end when no sealed log is left), the chunk's logs
            // between them in id order.
            let bound = next < chunk.count && !sealedDone ? chunk[chunk.count - 1].id.bytes : end
            var stopped = false
            let last = try exportPage(account: account, after: rowsAfter, upper: bound, limit: pageSize) {
                entry in
                while next < chunk.count, chunk[next].id < entry.id {
                    guard try body(chunk[next]) else {
                        stopped = true
                        return false
                    }
                    next += 1
                }
                guard try body(entry) else {
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
                guard try body(chunk[next]) else { return }
                next += 1
            }
            if sealedDone && bound == end { return }
            rowsAfter = bound.count == 16 ? bound : rowsAfter
        }
    }

    /// One page of `Queries/export_logs.sql`: rows after `after` and below `upper`, until `body` returns false;
    /// the id of its last row when it was full (there may be more).
    private func exportPage(
        account: String, after: [UInt8], upper: [UInt8], limit: Int, _ body: (LogIndexEntry) throws -> Bool
    ) throws -> LogID? {
        try read { db in
            let statement = try db.cachedStatement(NamedQueries.sql("export_logs"))
            defer { statement.reset() }
            try statement.bind([.text(account), .blob(after), .blob(upper), .integer(Int64(limit))])
            var reader = LogRowReader(account: account, names: logNames, metadata: false)
            var count = 0
            var last = LogID(high: 0, low: 0)
            while try statement.step() {
                let entry = try reader.entry(statement, connection: db)
                guard try body(entry) else { return nil }
                last = entry.id
                count += 1
            }
            return count == limit ? last : nil
        }
    }
}
