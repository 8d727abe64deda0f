import CSQLite
import TollgateModel

/// A log's metadata as `tollgate export` writes it (no headers, no bodies).
public struct ExportedLog: Sendable {
    public var id: LogID
    public var createdAt: Int64
    public var gateway: String
    public var provider: String
    public var model: String?
    public var method: String
    public var path: String
    public var statusCode: Int
    public var success: Bool
    public var stream: Bool
    public var durationMicros: Int64
    public var ttftMicros: Int64?
    public var usage: Usage
    /// Picodollars; nil = unpriced.
    public var cost: Int64?
    /// The cost came from the request's custom-cost header.
    public var customCost: Bool
    public var error: String?
    /// The event's id: `cf-aig-event-id`, or the log's own id when it started its event.
    public var eventID: String
    public var attempt: Int
    public var step: Int?
    /// Answered from the gateway's cache (cost 0).
    public var cached: Bool
    /// Picodollars a cached answer saved; nil when not cached or unpriced.
    public var saved: Int64?
    /// The log's annotation (`PATCH …/logs/{id}`): feedback -1 or 1, score 0…100.
    public var feedback: Int?
    public var score: Int?

    public init(
        id: LogID, createdAt: Int64, gateway: String, provider: String, model: String?, method: String, path: String,
        statusCode: Int, success: Bool, stream: Bool, durationMicros: Int64, ttftMicros: Int64?, usage: Usage,
        cost: Int64?, customCost: Bool, error: String?, eventID: String? = nil, attempt: Int = 1, step: Int? = nil,
        cached: Bool = false, saved: Int64? = nil, feedback: Int? = nil, score: Int? = nil
    ) {
        self.id = id
        self.createdAt = createdAt
        self.gateway = gateway
        self.provider = provider
        self.model = model
        self.method = method
        self.path = path
        self.statusCode = statusCode
        self.success = success
        self.stream = stream
        self.durationMicros = durationMicros
        self.ttftMicros = ttftMicros
        self.usage = usage
        self.cost = cost
        self.customCost = customCost
        self.error = error
        self.eventID = eventID ?? id.description
        self.attempt = attempt
        self.step = step
        self.cached = cached
        self.saved = saved
        self.feedback = feedback
        self.score = score
    }
}

/// One row of `Queries/export_logs.sql` where the statement stands: what `Catalog.forEachExportedLog` hands its
/// callback. Valid only during that call (the texts point into SQLite's row); `ExportedLog(row)` copies it out.
public struct ExportedLogRow {
    private let backing: Backing
    let names: ExportedLogNames

    /// A statement's current row, or a sealed segment's log copied out (`ExportedLogValues`).
    private enum Backing {
        case statement(SQLiteStatement, SQLiteConnection)
        case values(ExportedLogValues)
    }

    init(statement: SQLiteStatement, connection: SQLiteConnection, names: ExportedLogNames) {
        backing = .statement(statement, connection)
        self.names = names
    }

    init(values: ExportedLogValues, names: ExportedLogNames) {
        backing = .values(values)
        self.names = names
    }

    /// The column order of `Queries/export_logs.sql`.
    enum Column: Int32, CaseIterable {
        case id, createdAt, gateway, provider, model, method, path, statusCode, success, stream, durationMicros
        case ttftMicros, tokensIn, cachedTokensIn, cacheWriteTokens, cacheWrite1hTokens, tokensOut, reasoningTokens
        case serviceTier, cost, customCost, error, eventID, attempt, step, cached, saved, feedback, score
    }

    @inline(__always)
    func isNull(_ column: Column) -> Bool {
        switch backing {
        case .statement(let statement, _): sqlite3_column_type(statement.handle, column.rawValue) == SQLITE_NULL
        case .values(let values): values.isNull(column)
        }
    }

    @inline(__always)
    func int64(_ column: Column) -> Int64 {
        switch backing {
        case .statement(let statement, _): sqlite3_column_int64(statement.handle, column.rawValue)
        case .values(let values): values.integers[Int(column.rawValue)] ?? 0
        }
    }

    @inline(__always)
    func optionalInt64(_ column: Column) -> Int64? { isNull(column) ? nil : int64(column) }

    /// The text's bytes (empty for NULL), valid until the statement moves.
    @inline(__always)
    func text(_ column: Column) -> UnsafeBufferPointer<UInt8> {
        let statement: SQLiteStatement
        switch backing {
        case .statement(let s, _): statement = s
        case .values(let values): return values.text(column)
        }
        guard let start = sqlite3_column_text(statement.handle, column.rawValue) else {
            return UnsafeBufferPointer(start: nil, count: 0)
        }
        return UnsafeBufferPointer(start: start, count: Int(sqlite3_column_bytes(statement.handle, column.rawValue)))
    }

    func string(_ column: Column) -> String { String(decoding: text(column), as: UTF8.self) }
    func optionalString(_ column: Column) -> String? { isNull(column) ? nil : string(column) }

    /// The log id's two big-endian halves.
    var id: LogID {
        let statement: SQLiteStatement
        switch backing {
        case .statement(let s, _): statement = s
        case .values(let values): return values.id
        }
        guard let bytes = sqlite3_column_blob(statement.handle, Column.id.rawValue),
            sqlite3_column_bytes(statement.handle, Column.id.rawValue) == 16
        else { return LogID(high: 0, low: 0) }
        let raw = UnsafeRawPointer(bytes)
        return LogID(
            high: UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self)),
            low: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    /// The name behind a `log_names` id (gateway, provider, model).
    func name(_ id: Int64) throws -> String {
        switch backing {
        case .statement(_, let connection): try names.name(id, connection: connection)
        case .values: try names.name(id, connection: nil)
        }
    }
}

/// A sealed segment's log as an export row (its logs have no `logs` row to read): the values of `ExportedLog` by
/// `ExportedLogRow.Column`, its texts in one buffer it owns, its names as `log_names` ids.
final class ExportedLogValues {
    let id: LogID
    /// By column: the integer (names as ids, flags 0 or 1); nil for NULL.
    private(set) var integers: [Int64?]
    private var texts: [Int32: (offset: Int, count: Int)] = [:]
    private let buffer: UnsafeMutableBufferPointer<UInt8>

    init(_ log: ExportedLog, names: ExportedLogNames) throws {
        typealias C = ExportedLogRow.Column
        id = log.id
        var ints = [Int64?](repeating: nil, count: C.allCases.count)
        func set(_ column: C, _ value: Int64?) { ints[Int(column.rawValue)] = value }
        set(.createdAt, log.createdAt)
        set(.gateway, try names.id(of: log.gateway))
        set(.provider, try names.id(of: log.provider))
        set(.model, try log.model.map { try names.id(of: $0) })
        set(.statusCode, Int64(log.statusCode))
        set(.success, log.success ? 1 : 0)
        set(.stream, log.stream ? 1 : 0)
        set(.durationMicros, log.durationMicros)
        set(.ttftMicros, log.ttftMicros)
        set(.tokensIn, log.usage.tokensIn)
        set(.cachedTokensIn, log.usage.cachedTokensIn)
        set(.cacheWriteTokens, log.usage.cacheWriteTokens)
        set(.cacheWrite1hTokens, log.usage.cacheWrite1hTokens)
        set(.tokensOut, log.usage.tokensOut)
        set(.reasoningTokens, log.usage.reasoningTokens)
        set(.cost, log.cost)
        set(.customCost, log.customCost ? 1 : 0)
        set(.attempt, log.attempt == 1 ? nil : Int64(log.attempt))
        set(.step, log.step.map { Int64($0) })
        set(.cached, log.cached ? 1 : 0)
        set(.saved, log.saved)
        set(.feedback, log.feedback.map { Int64($0) })
        set(.score, log.score.map { Int64($0) })
        // The event id is NULL when it is the log's own, as in the `logs` rows.
        let eventID = log.eventID == log.id.description ? nil : log.eventID
        let textValues: [(C, String?)] = [
            (.method, log.method), (.path, log.path), (.serviceTier, log.usage.serviceTier), (.error, log.error),
            (.eventID, eventID),
        ]
        buffer = .allocate(capacity: max(1, textValues.reduce(0) { $0 + ($1.1?.utf8.count ?? 0) }))
        var offset = 0
        for (column, text) in textValues {
            guard let text else { continue }
            let count = buffer[offset...].initialize(from: text.utf8).1 - offset
            texts[column.rawValue] = (offset, count)
            ints[Int(column.rawValue)] = 0  // present
            offset += count
        }
        integers = ints
    }

    deinit { buffer.deallocate() }

    func isNull(_ column: ExportedLogRow.Column) -> Bool {
        switch column {
        case .id: false
        case .method, .path, .serviceTier, .error, .eventID: texts[column.rawValue] == nil
        default: integers[Int(column.rawValue)] == nil
        }
    }

    /// A text column's bytes (empty for NULL), valid while this object lives.
    func text(_ column: ExportedLogRow.Column) -> UnsafeBufferPointer<UInt8> {
        guard let (offset, count) = texts[column.rawValue] else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(rebasing: UnsafeBufferPointer(buffer)[offset..<(offset + count)])
    }
}

/// `log_names` read when an export first needs a name, and again when a row names one added since (names are only
/// ever added). A name only logs outside the rows carry (those of segments that answer for their logs) gets an id
/// of its own here, below zero.
final class ExportedLogNames {
    private var byID: [Int64: String] = [:]
    private var byName: [String: Int64] = [:]
    private var unlisted: [String: Int64] = [:]
    private var unlistedByID: [Int64: String] = [:]
    private let catalog: Catalog

    init(catalog: Catalog) { self.catalog = catalog }

    /// The name behind `id`, reading `log_names` again on `connection` (the reading statement's) when it is new;
    /// without a connection, on a reader of the catalog's.
    func name(_ id: Int64, connection: SQLiteConnection?) throws -> String {
        if let name = byID[id] ?? unlistedByID[id] { return name }
        if let connection { try reload(connection) } else { try reload() }
        guard let name = byID[id] else {
            throw CatalogError(code: .invalidValue, message: "a log row names \(id), which log_names lacks")
        }
        return name
    }

    /// The id of a name: its `log_names` id, else one of this export's own.
    func id(of name: String) throws -> Int64 {
        if let id = byName[name] ?? unlisted[name] { return id }
        try reload()
        if let id = byName[name] { return id }
        let id = -Int64(unlisted.count) - 1
        unlisted[name] = id
        unlistedByID[id] = name
        return id
    }

    /// Reads `log_names` whole, on a reader of its own (never inside another read: the readers are few).
    private func reload() throws { try catalog.read { db in try reload(db) } }

    private func reload(_ db: SQLiteConnection) throws {
        let names = try db.query(NamedQueries.sql("export_log_names")) { ($0.int64(at: 0), $0.string(at: 1)) }
        byID = Dictionary(names, uniquingKeysWith: { a, _ in a })
        byName = Dictionary(names.map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    }
}

extension ExportedLog {
    /// Copies a row out of the statement.
    init(_ row: ExportedLogRow) throws {
        self.init(
            id: row.id, createdAt: row.int64(.createdAt), gateway: try row.name(row.int64(.gateway)),
            provider: try row.name(row.int64(.provider)), model: try row.optionalInt64(.model).map(row.name),
            method: row.string(.method), path: row.string(.path), statusCode: Int(row.int64(.statusCode)),
            success: row.int64(.success) != 0, stream: row.int64(.stream) != 0,
            durationMicros: row.int64(.durationMicros), ttftMicros: row.optionalInt64(.ttftMicros),
            usage: Usage(
                tokensIn: row.optionalInt64(.tokensIn), cachedTokensIn: row.optionalInt64(.cachedTokensIn),
                cacheWriteTokens: row.optionalInt64(.cacheWriteTokens),
                cacheWrite1hTokens: row.optionalInt64(.cacheWrite1hTokens), tokensOut: row.optionalInt64(.tokensOut),
                reasoningTokens: row.optionalInt64(.reasoningTokens), serviceTier: row.optionalString(.serviceTier)),
            cost: row.optionalInt64(.cost), customCost: row.int64(.customCost) != 0,
            error: row.optionalString(.error), eventID: row.optionalString(.eventID),
            attempt: Int(row.optionalInt64(.attempt) ?? 1), step: row.optionalInt64(.step).map { Int($0) },
            cached: row.int64(.cached) != 0, saved: row.optionalInt64(.saved),
            feedback: row.optionalInt64(.feedback).map { Int($0) }, score: row.optionalInt64(.score).map { Int($0) })
    }
}

/// `tollgate export`'s CSV and NDJSON, written as bytes into one reusable buffer: no per-row strings, no
/// Foundation formatting. Texts that are pure ASCII without anything to quote or escape are copied as they are;
/// any other text goes through the same `String` code as a whole value (`csvField`, `JSONText.quoted`), so the
/// output never depends on which path a value took.
public struct ExportEncoder: ~Copyable {
    public enum Format: Sendable { case csv, ndjson }

    /// The columns, in order (the CSV header; the NDJSON keys).
    public static let columns = [
        "id", "created_at", "account", "gateway", "provider", "model", "method", "path", "status_code", "success",
        "stream", "duration_ms", "ttft_ms", "tokens_in", "cached_tokens_in", "cache_write_tokens",
        "cache_write_1h_tokens", "tokens_out", "reasoning_tokens", "service_tier", "cost", "custom_cost", "error",
        "event_id", "attempt", "step", "cached", "saved", "feedback", "score",
    ]

    public let format: Format
    /// Encoded pieces, looked up per row without touching an array: what goes before each value (slots 0–29:
    /// "," in CSV, none before the first; `,"name":` in NDJSON, `{"name":` for the first), the account (slot 30),
    /// then the gateway, provider and model names met so far.
    private var pool = BytePool()
    private static let accountSlot = 30
    /// The pool slot of a `log_names` id below `directNames` (-1: not encoded yet), and of larger ids.
    private let nameSlots: UnsafeMutablePointer<Int32>
    private static let directNames = 4096
    private var otherNameSlots: [Int64: Int] = [:]
    /// The date part (`YYYY-MM-DD`) of the last row's created_at, and its day number.
    private var day: Int64 = .min
    private var dayText: (UInt64, UInt16) = (0, 0)

    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes written and not yet taken (`withBytes`, `removeAll`).
    public private(set) var count = 0

    public init(format: Format, account: String, capacity: Int = 1 << 21) {
        self.format = format
        self.capacity = max(capacity, 4096)
        base = UnsafeMutablePointer<UInt8>.allocate(capacity: self.capacity)
        nameSlots = UnsafeMutablePointer<Int32>.allocate(capacity: Self.directNames)
        nameSlots.initialize(repeating: -1, count: Self.directNames)
        for (index, name) in Self.columns.enumerated() {
            switch format {
            case .csv: _ = pool.add(index == 0 ? [] : [UInt8(ascii: ",")])
            case .ndjson: _ = pool.add(Array(((index == 0 ? "{" : ",") + "\"\(name)\":").utf8))
            }
        }
        _ = pool.add(Array((format == .csv ? Self.csvField(account) : JSONText.quoted(account)).utf8))
    }

    deinit {
        base.deallocate()
        nameSlots.deallocate()
        pool.deallocate()
    }

    /// The bytes written so far.
    public func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    public mutating func removeAll() { count = 0 }

    /// The CSV header line (nothing for NDJSON).
    public mutating func appendHeader() {
        guard format == .csv else { return }
        append(Array((Self.columns.joined(separator: ",") + "\r\n").utf8))
    }

    /// One log's line.
    public mutating func append(_ row: ExportedLogRow) throws {
        reserve(1024)
        let id = row.id
        put(0)
        putQuote()
        putID(id)
        putQuote()
        put(1)
        putQuote()
        putTimestamp(row.int64(.createdAt))
        putQuote()
        put(2)
        emit(Self.accountSlot)
        put(3)
        try putName(row.int64(.gateway), row)
        put(4)
        try putName(row.int64(.provider), row)
        put(5)
        if let model = row.optionalInt64(.model) { try putName(model, row) } else { putNull() }
        put(6)
        putText(row.text(.method))
        put(7)
        putText(row.text(.path))
        put(8)
        putInt(row.int64(.statusCode))
        put(9)
        putBool(row.int64(.success) != 0)
        put(10)
        putBool(row.int64(.stream) != 0)
        put(11)
        putDecimal(row.int64(.durationMicros), scale: 3)
        put(12)
        if row.isNull(.ttftMicros) { putNull() } else { putDecimal(row.int64(.ttftMicros), scale: 3) }
        put(13)
        putOptionalInt(row, .tokensIn)
        put(14)
        putOptionalInt(row, .cachedTokensIn)
        put(15)
        putOptionalInt(row, .cacheWriteTokens)
        put(16)
        putOptionalInt(row, .cacheWrite1hTokens)
        put(17)
        putOptionalInt(row, .tokensOut)
        put(18)
        putOptionalInt(row, .reasoningTokens)
        put(19)
        putOptionalText(row, .serviceTier)
        put(20)
        if row.isNull(.cost) { putNull() } else { putDecimal(row.int64(.cost), scale: 12) }
        put(21)
        putBool(row.int64(.customCost) != 0)
        put(22)
        putOptionalText(row, .error)
        put(23)
        if row.isNull(.eventID) {
            putQuote()
            putID(id)
            putQuote()
        } else {
            putText(row.text(.eventID))
        }
        put(24)
        putInt(row.optionalInt64(.attempt) ?? 1)
        put(25)
        putOptionalInt(row, .step)
        put(26)
        putBool(row.int64(.cached) != 0)
        put(27)
        if row.isNull(.saved) { putNull() } else { putDecimal(row.int64(.saved), scale: 12) }
        put(28)
        putOptionalInt(row, .feedback)
        put(29)
        putOptionalInt(row, .score)
        switch format {
        case .csv:
            byte(UInt8(ascii: "\r"))
            byte(UInt8(ascii: "\n"))
        case .ndjson:
            byte(UInt8(ascii: "}"))
            byte(UInt8(ascii: "\n"))
        }
    }

    /// RFC 4180 (`CSV.field`): quoted when it holds a comma, quote or line break (a CR LF pair too); quotes doubled.
    public static func csvField(_ text: String) -> String { CSV.field(text) }

    // MARK: Bytes

    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        let grown = max(capacity * 2, count + extra)
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        moved.update(from: base, count: count)
        base.deallocate()
        base = moved
        capacity = grown
    }

    /// One byte; `reserve` first.
    @inline(__always)
    private mutating func byte(_ value: UInt8) {
        base[count] = value
        count += 1
    }

    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        reserve(bytes.count)
        if let start = bytes.baseAddress { (base + count).update(from: start, count: bytes.count) }
        count += bytes.count
    }

    private mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    /// What goes before column `index`.
    @inline(__always)
    private mutating func put(_ index: Int) { emit(index) }

    /// The bytes of a pool slot.
    @inline(__always)
    private mutating func emit(_ slot: Int) {
        let (start, length) = pool[slot]
        reserve(length)
        if length <= 16 {
            for i in 0..<length { base[count + i] = start[i] }
        } else {
            (base + count).update(from: start, count: length)
        }
        count += length
    }

    /// A quote around the id and created_at in NDJSON (never needed in CSV: neither holds anything to quote).
    @inline(__always)
    private mutating func putQuote() {
        if format == .ndjson { byte(UInt8(ascii: "\"")) }
    }

    private mutating func putNull() {
        guard format == .ndjson else { return }
        reserve(4)
        byte(UInt8(ascii: "n"))
        byte(UInt8(ascii: "u"))
        byte(UInt8(ascii: "l"))
        byte(UInt8(ascii: "l"))
    }

    private mutating func putBool(_ value: Bool) {
        reserve(5)
        if value {
            byte(UInt8(ascii: "t"))
            byte(UInt8(ascii: "r"))
            byte(UInt8(ascii: "u"))
        } else {
            byte(UInt8(ascii: "f"))
            byte(UInt8(ascii: "a"))
            byte(UInt8(ascii: "l"))
            byte(UInt8(ascii: "s"))
        }
        byte(UInt8(ascii: "e"))
    }

    private mutating func putOptionalInt(_ row: ExportedLogRow, _ column: ExportedLogRow.Column) {
        if row.isNull(column) { putNull() } else { putInt(row.int64(column)) }
    }

    /// `String(value)`.
    private mutating func putInt(_ value: Int64) {
        reserve(20)
        if value < 0 { byte(UInt8(ascii: "-")) }
        putDigits(value.magnitude, minimum: 1)
    }

    /// The decimal digits of `value`, zero-padded to `minimum`.
    @inline(__always)
    private mutating func putDigits(_ value: UInt64, minimum: Int) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, filled from the end
        let written = withUnsafeMutableBytes(of: &digits) { scratch -> Int in
            var rest = value
            var at = scratch.count
            repeat {
                at -= 1
                scratch[at] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest != 0 || scratch.count - at < minimum
            let n = scratch.count - at
            reserve(n)
            (base + count).update(
                from: scratch.baseAddress!.advanced(by: at).assumingMemoryBound(to: UInt8.self), count: n)
            return n
        }
        count += written
    }

    /// `ExactDecimal.text(Int128(value), scale: scale)`: the fraction without trailing zeros, no point when
    /// whole.
    @inline(__always)
    private mutating func putDecimal(_ value: Int64, scale: Int) {
        reserve(24)
        var unit: UInt64 = 1
        for _ in 0..<scale { unit *= 10 }
        let magnitude = value.magnitude
        if value < 0 { byte(UInt8(ascii: "-")) }
        putDigits(magnitude / unit, minimum: 1)
        var fraction = magnitude % unit
        guard fraction != 0 else { return }
        var width = scale
        while fraction % 10 == 0 {
            fraction /= 10
            width -= 1
        }
        byte(UInt8(ascii: "."))
        putDigits(fraction, minimum: width)
    }

    /// Lowercase and hyphenated, as `LogID.description`.
    private mutating func putID(_ id: LogID) {
        reserve(36)
        for i in 0..<16 {
            if i == 4 || i == 6 || i == 8 || i == 10 { byte(UInt8(ascii: "-")) }
            let word = i < 8 ? id.high : id.low
            let value = UInt8(truncatingIfNeeded: word >> (56 - 8 * UInt64(i & 7)))
            byte(Self.hexDigit(value >> 4))
            byte(Self.hexDigit(value & 0xF))
        }
    }

    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// `RFC3339.format(milliseconds:)`: `2026-11-25T13:04:05.123Z`.
    private mutating func putTimestamp(_ milliseconds: Int64) {
        var days = milliseconds / 86_400_000
        var ofDay = milliseconds % 86_400_000
        if ofDay < 0 {
            days -= 1
            ofDay += 86_400_000
        }
        if days != day {
            let (year, month, date) = RFC3339.civil(fromDays: days)
            guard (0...9999).contains(year) else {
                append(Array(RFC3339.format(milliseconds: milliseconds).utf8))
                return
            }
            day = days
            withUnsafeMutableBytes(of: &dayText) { out in
                var at = 0
                func two(_ v: Int64) {
                    out[at] = UInt8(ascii: "0") + UInt8(v / 10)
                    out[at + 1] = UInt8(ascii: "0") + UInt8(v % 10)
                    at += 2
                }
                two(year / 100)
                two(year % 100)
                out[at] = UInt8(ascii: "-")
                at += 1
                two(month)
                out[at] = UInt8(ascii: "-")
                at += 1
                two(date)
            }
        }
        reserve(24)
        var date = dayText
        withUnsafeBytes(of: &date) { text in
            (base + count).update(from: text.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 10)
        }
        count += 10
        byte(UInt8(ascii: "T"))
        let fields = (ofDay / 3_600_000, ofDay / 60_000 % 60, ofDay / 1000 % 60)
        putTwo(fields.0)
        byte(UInt8(ascii: ":"))
        putTwo(fields.1)
        byte(UInt8(ascii: ":"))
        putTwo(fields.2)
        byte(UInt8(ascii: "."))
        let ms = ofDay % 1000
        byte(UInt8(ascii: "0") + UInt8(ms / 100))
        putTwo(ms % 100)
        byte(UInt8(ascii: "Z"))
    }

    @inline(__always)
    private mutating func putTwo(_ value: Int64) {
        byte(UInt8(ascii: "0") + UInt8(value / 10))
        byte(UInt8(ascii: "0") + UInt8(value % 10))
    }

    private mutating func putName(_ id: Int64, _ row: ExportedLogRow) throws {
        if id >= 0 && id < Self.directNames {
            var slot = Int(nameSlots[Int(id)])
            if slot < 0 {
                slot = pool.add(encoded(try row.name(id)))
                nameSlots[Int(id)] = Int32(slot)
            }
            emit(slot)
        } else if let slot = otherNameSlots[id] {
            emit(slot)
        } else {
            let slot = pool.add(encoded(try row.name(id)))
            otherNameSlots[id] = slot
            emit(slot)
        }
    }

    private mutating func putOptionalText(_ row: ExportedLogRow, _ column: ExportedLogRow.Column) {
        if row.isNull(column) { putNull() } else { putText(row.text(column)) }
    }

    /// A text value: copied when it is ASCII with nothing to quote (CSV) or escape (JSON), else encoded as a
    /// `String`.
    private mutating func putText(_ text: UnsafeBufferPointer<UInt8>) {
        var plain = true
        switch format {
        case .csv:
            for c in text
            where c >= 0x80 || c == UInt8(ascii: ",") || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\n")
                || c == UInt8(ascii: "\r")
            {
                plain = false
                break
            }
            if plain { append(text) }
        case .ndjson:
            for c in text where c >= 0x80 || c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") {
                plain = false
                break
            }
            if plain {
                reserve(text.count + 2)
                byte(UInt8(ascii: "\""))
                append(text)
                byte(UInt8(ascii: "\""))
            }
        }
        if !plain { append(encoded(String(decoding: text, as: UTF8.self))) }
    }

    private func encoded(_ text: String) -> [UInt8] {
        switch format {
        case .csv: Array(Self.csvField(text).utf8)
        case .ndjson: Array(JSONText.quoted(text).utf8)
        }
    }
}

/// Byte strings end to end in one allocation, each found by its slot number. Freed by its owner
/// (`deallocate`).
private struct BytePool {
    private var bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: 4096)
    private var byteCapacity = 4096
    private var byteCount = 0
    /// Two per slot: start offset, length.
    private var spans = UnsafeMutablePointer<Int>.allocate(capacity: 256)
    private var spanCapacity = 256
    private var slots = 0

    /// Adds `value`; its slot.
    mutating func add(_ value: [UInt8]) -> Int {
        if byteCount + value.count > byteCapacity {
            let grown = max(byteCapacity * 2, byteCount + value.count)
            let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
            moved.update(from: bytes, count: byteCount)
            bytes.deallocate()
            bytes = moved
            byteCapacity = grown
        }
        if 2 * slots + 2 > spanCapacity {
            let moved = UnsafeMutablePointer<Int>.allocate(capacity: spanCapacity * 2)
            moved.update(from: spans, count: 2 * slots)
            spans.deallocate()
            spans = moved
            spanCapacity *= 2
        }
        value.withUnsafeBufferPointer {
            if let start = $0.baseAddress { (bytes + byteCount).update(from: start, count: $0.count) }
        }
        spans[2 * slots] = byteCount
        spans[2 * slots + 1] = value.count
        byteCount += value.count
        slots += 1
        return slots - 1
    }

    /// Where a slot's bytes start, and how many.
    @inline(__always)
    subscript(slot: Int) -> (UnsafePointer<UInt8>, Int) {
        (UnsafePointer(bytes + spans[2 * slot]), spans[2 * slot + 1])
    }

    func deallocate() {
        bytes.deallocate()
        spans.deallocate()
    }
}
