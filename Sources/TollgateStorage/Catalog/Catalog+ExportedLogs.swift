import CSQLite
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
        let names = ExportedLogNames()
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
            let last = try exportPage(account: account, after: rowsAfter, upper: bound, limit: pageSize, names: names) {
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
        account: String, after: [UInt8], upper: [UInt8], limit: Int, names: ExportedLogNames,
        _ body: (LogIndexEntry) throws -> Bool
    ) throws -> LogID? {
        try read { db in
            let statement = try db.cachedStatement(NamedQueries.sql("export_logs"))
            defer { statement.reset() }
            try statement.bind([.text(account), .blob(after), .blob(upper), .integer(Int64(limit))])
            var count = 0
            var last = LogID(high: 0, low: 0)
            while try statement.step() {
                let entry = try Self.exportedEntry(statement, account: account, names: names, connection: db)
                guard try body(entry) else { return nil }
                last = entry.id
                count += 1
            }
            return count == limit ? last : nil
        }
    }

    /// A row of `Queries/export_logs.sql` as the index entry of a log of `account`, without its metadata.
    private static func exportedEntry(
        _ row: SQLiteStatement, account: String, names: ExportedLogNames, connection: SQLiteConnection
    ) throws -> LogIndexEntry {
        let feedback = row.optionalInt64(at: 27).map { Int($0) }
        let score = row.optionalInt64(at: 28).map { Int($0) }
        return LogIndexEntry(
            id: exportedID(row), createdAt: row.int64(at: 1), account: account,
            gateway: try names.name(row.int64(at: 2), connection: connection),
            provider: try names.name(row.int64(at: 3), connection: connection),
            model: try row.optionalInt64(at: 4).map { try names.name($0, connection: connection) },
            method: row.string(at: 5), path: row.string(at: 6), statusCode: Int(row.int64(at: 7)),
            success: row.int64(at: 8) != 0, stream: row.int64(at: 9) != 0, durationMicros: row.int64(at: 10),
            ttftMicros: row.optionalInt64(at: 11), usage: usage(row, from: 12), requestSize: row.int64(at: 29),
            responseSize: row.int64(at: 30), error: row.optionalString(at: 21),
            payloadStored: row.int64(at: 31) != 0, cost: row.optionalInt64(at: 19), customCost: row.int64(at: 20) != 0,
            location: RecordLocation(
                segment: UInt32(truncatingIfNeeded: row.int64(at: 32)),
                offset: UInt64(bitPattern: row.int64(at: 33)),
                length: UInt32(truncatingIfNeeded: row.int64(at: 34))),
            eventID: row.optionalString(at: 22), attempt: Int(row.optionalInt64(at: 23) ?? 1),
            step: row.optionalInt64(at: 24).map { Int($0) }, cached: row.int64(at: 25) != 0,
            saved: row.optionalInt64(at: 26),
            annotation: feedback == nil && score == nil ? nil : LogAnnotation(feedback: feedback, score: score))
    }

    /// The row's id (column 0) from its two big-endian halves, read in place.
    private static func exportedID(_ row: SQLiteStatement) -> LogID {
        guard let bytes = sqlite3_column_blob(row.handle, 0), sqlite3_column_bytes(row.handle, 0) == 16 else {
            return LogID(high: 0, low: 0)
        }
        let raw = UnsafeRawPointer(bytes)
        return LogID(
            high: UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self)),
            low: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }
}

/// `log_names` read when an export first needs a name, and again when a row names one added since (names are only
/// ever added, so the copy stays right for every id it holds).
final class ExportedLogNames {
    private var byID: [Int64: String] = [:]

    /// The name behind `id`, reading `log_names` again on `connection` (the reading statement's) when it is new.
    func name(_ id: Int64, connection: SQLiteConnection) throws -> String {
        if let name = byID[id] { return name }
        let names = try connection.query(NamedQueries.sql("export_log_names")) { ($0.int64(at: 0), $0.string(at: 1)) }
        byID = Dictionary(names, uniquingKeysWith: { a, _ in a })
        guard let name = byID[id] else {
            throw CatalogError(code: .invalidValue, message: "a log row names \(id), which log_names lacks")
        }
        return name
    }
}
