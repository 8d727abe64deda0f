import CSQLite
import Synchronization
import TollgateModel

/// Reads the rows of the statements that select a log's row (`Queries/log_row_columns.sql`: log_get, logs_list,
/// reprice_page, export_logs) as index entries: the one place that knows where each of its columns is. Each such
/// statement reads the logs of one account, the reader's.
///
/// Gateway, provider and model come as `log_names` ids, resolved from the catalog's copy of that table
/// (`LogNameCache`), taken when the reader is made and read again on the row's connection when a row names an id
/// the copy lacks.
struct LogRowReader {
    /// The columns of `Queries/log_row_columns.sql`, in its order: each case is its column's position, and its name
    /// the column's (`sqlName`).
    enum Column: Int, CaseIterable {
        case id, gateway, provider, model, createdAt, method, path, statusCode, success, stream, durationUs
        case ttftUs, tokensIn, cachedTokensIn, cacheWriteTokens, cacheWrite1hTokens, tokensOut, reasoningTokens
        case serviceTier, requestSize, responseSize, error, metadata, payloadStored, segment, segmentOffset
        case recordLength, cost, customCost, eventId, attempt, step, cached, saved, feedback, score
        case annotationMetadata

        /// The column's name in the statement: the case's name in snake case (`cacheWrite1hTokens` is
        /// `cache_write_1h_tokens`).
        var sqlName: String {
            var name = ""
            var previous: Character?
            for character in String(describing: self) {
                if character.isUppercase {
                    name += "_" + character.lowercased()
                } else if character.isNumber, let previous, !previous.isNumber {
                    name += "_" + String(character)
                } else {
                    name.append(character)
                }
                previous = character
            }
            return name
        }
    }

    private let account: String
    private let cache: LogNameCache
    private var names: [Int64: String]
    /// Whether the request's metadata and the annotation's are read; without, entries have no metadata and their
    /// annotation only its feedback and score (what `tollgate export` writes).
    private let metadata: Bool

    /// A reader of rows of `account`'s logs.
    init(account: String, names cache: LogNameCache, metadata: Bool = true) {
        self.account = account
        self.cache = cache
        self.names = cache.names
        self.metadata = metadata
    }

    /// The index entry of the row `row` is on; `connection` is the statement's, for names added since the copy.
    mutating func entry(_ row: SQLiteStatement, connection: SQLiteConnection) throws -> LogIndexEntry {
        func int64(_ column: Column) -> Int64 { row.int64(at: column.rawValue) }
        func optionalInt64(_ column: Column) -> Int64? { row.optionalInt64(at: column.rawValue) }
        func string(_ column: Column) -> String { row.string(at: column.rawValue) }
        func optionalString(_ column: Column) -> String? { row.optionalString(at: column.rawValue) }
        func flag(_ column: Column) -> Bool { row.int64(at: column.rawValue) != 0 }

        let id = try Self.id(row)
        var metadata: [MetadataEntry] = []
        let feedback = optionalInt64(.feedback).map { Int($0) }
        let score = optionalInt64(.score).map { Int($0) }
        var annotation = LogAnnotation(feedback: feedback, score: score)
        if self.metadata {
            if let json = optionalString(.metadata) {
                guard let decoded = LogMetadataJSON.decode(json) else {
                    throw CatalogError(
                        code: .invalidValue, message: "log \(id) has metadata that is not a flat JSON object")
                }
                metadata = decoded
            }
            if let json = optionalString(.annotationMetadata) {
                guard let decoded = LogMetadataJSON.decode(json) else {
                    throw CatalogError(
                        code: .invalidValue,
                        message: "log \(id) has annotated metadata that is not a flat JSON object")
                }
                annotation.metadata = decoded
            }
        }
        let usage = Usage(
            tokensIn: optionalInt64(.tokensIn), cachedTokensIn: optionalInt64(.cachedTokensIn),
            cacheWriteTokens: optionalInt64(.cacheWriteTokens), cacheWrite1hTokens: optionalInt64(.cacheWrite1hTokens),
            tokensOut: optionalInt64(.tokensOut), reasoningTokens: optionalInt64(.reasoningTokens),
            serviceTier: optionalString(.serviceTier))
        return LogIndexEntry(
            id: id, createdAt: int64(.createdAt), account: account,
            gateway: try name(int64(.gateway), connection: connection),
            provider: try name(int64(.provider), connection: connection),
            model: try optionalInt64(.model).map { try name($0, connection: connection) }, method: string(.method),
            path: string(.path), statusCode: Int(int64(.statusCode)), success: flag(.success), stream: flag(.stream),
            durationMicros: int64(.durationUs), ttftMicros: optionalInt64(.ttftUs), usage: usage,
            requestSize: int64(.requestSize), responseSize: int64(.responseSize), error: optionalString(.error),
            metadata: metadata, payloadStored: flag(.payloadStored), cost: optionalInt64(.cost),
            customCost: flag(.customCost),
            location: RecordLocation(
                segment: UInt32(truncatingIfNeeded: int64(.segment)),
                offset: UInt64(bitPattern: int64(.segmentOffset)),
                length: UInt32(truncatingIfNeeded: int64(.recordLength))),
            eventID: optionalString(.eventId), attempt: Int(optionalInt64(.attempt) ?? 1),
            step: optionalInt64(.step).map { Int($0) }, cached: flag(.cached), saved: optionalInt64(.saved),
            annotation: annotation.isEmpty ? nil : annotation)
    }

    /// The row's id from its two big-endian halves, read in place.
    private static func id(_ row: SQLiteStatement) throws -> LogID {
        let column = Int32(Column.id.rawValue)
        guard let bytes = sqlite3_column_blob(row.handle, column), sqlite3_column_bytes(row.handle, column) == 16
        else {
            throw CatalogError(code: .invalidValue, message: "a log row has an id that is not 16 bytes")
        }
        let raw = UnsafeRawPointer(bytes)
        return LogID(
            high: UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self)),
            low: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    /// The name behind `id`, from the copy or, when it is new, from `log_names` read again on `connection`.
    private mutating func name(_ id: Int64, connection: SQLiteConnection) throws -> String {
        if let name = names[id] { return name }
        names = try cache.reload(connection)
        guard let name = names[id] else {
            throw CatalogError(code: .invalidValue, message: "a log row names \(id), which log_names lacks")
        }
        return name
    }
}

/// The catalog's copy of `log_names` (id → name), which `LogRowReader` resolves log rows' names from. Names are only
/// ever added, never changed or deleted, so the copy stays right for every id it holds; it is read again when a row
/// names one it lacks.
final class LogNameCache: Sendable {
    private let byID = Mutex<[Int64: String]>([:])

    /// The names copied so far.
    var names: [Int64: String] { byID.withLock { $0 } }

    /// Reads `log_names` on `connection` into the copy (a reading of an older snapshot than another's adds what it
    /// has, never takes away), and returns the copy.
    func reload(_ connection: SQLiteConnection) throws -> [Int64: String] {
        let read = try connection.query(NamedQueries.sql("log_names_all")) { ($0.int64(at: 0), $0.string(at: 1)) }
        return byID.withLock { names in
            for (id, name) in read where names[id] == nil { names[id] = name }
            return names
        }
    }
}
