import CSQLite

/// A prepared statement: owns its `sqlite3_stmt`, finalized in `deinit`.
///
/// Parameters are bound by 1-based index or by name (`:name`, `@name`, `$name` as written in the SQL); columns are
/// read by 0-based index. Not thread-safe: a statement is used by the thread that holds its connection.
final class SQLiteStatement {
    let handle: OpaquePointer
    /// The SQL text, for error messages.
    let sql: String

    init(handle: OpaquePointer, sql: String) {
        self.handle = handle
        self.sql = sql
    }

    deinit {
        sqlite3_finalize(handle)
    }

    private var db: OpaquePointer? { sqlite3_db_handle(handle) }

    private func check(_ resultCode: Int32) throws {
        guard resultCode == SQLITE_OK else { throw SQLiteError(resultCode: resultCode, db: db, sql: sql) }
    }

    // MARK: Binding

    /// The number of parameters the statement takes.
    var parameterCount: Int { Int(sqlite3_bind_parameter_count(handle)) }

    /// Binds `value` to the parameter at `index` (1-based).
    func bind(_ value: SQLiteValue, at index: Int) throws {
        let i = Int32(index)
        switch value {
        case .integer(let v):
            try check(sqlite3_bind_int64(handle, i, v))
        case .real(let v):
            try check(sqlite3_bind_double(handle, i, v))
        case .text(let v):
            // The explicit length keeps any NUL inside the text; SQLite copies the bytes (SQLITE_TRANSIENT).
            let count = UInt64(v.utf8.count)
            try check(
                v.withCString { sqlite3_bind_text64(handle, i, $0, count, csqlite_transient(), UInt8(SQLITE_UTF8)) }
            )
        case .blob(let v):
            if v.isEmpty {
                // A nil pointer would bind NULL; an empty blob is a zero-length blob.
                try check(sqlite3_bind_zeroblob(handle, i, 0))
            } else {
                try check(
                    v.withUnsafeBytes {
                        sqlite3_bind_blob64(handle, i, $0.baseAddress, UInt64($0.count), csqlite_transient())
                    }
                )
            }
        case .null:
            try check(sqlite3_bind_null(handle, i))
        }
    }

    func bind(_ value: Int64?, at index: Int) throws { try bind(.integer(value), at: index) }
    func bind(_ value: Int?, at index: Int) throws { try bind(.integer(value.map { Int64($0) }), at: index) }
    func bind(_ value: Double?, at index: Int) throws {
        try bind(value.map(SQLiteValue.real) ?? .null, at: index)
    }
    func bind(_ value: String?, at index: Int) throws { try bind(.text(value), at: index) }
    func bind(_ value: [UInt8]?, at index: Int) throws {
        try bind(value.map(SQLiteValue.blob) ?? .null, at: index)
    }
    func bind(_ value: Bool?, at index: Int) throws { try bind(value.map(SQLiteValue.bool) ?? .null, at: index) }
    func bindNull(at index: Int) throws { try bind(.null, at: index) }

    /// The 1-based index of a named parameter, spelled as in the SQL (`:name`).
    func parameterIndex(_ name: String) throws -> Int {
        let index = sqlite3_bind_parameter_index(handle, name)
        guard index > 0 else {
            throw SQLiteError(
                code: .unknownParameter, resultCode: SQLITE_RANGE,
                message: "the statement has no parameter \(name)", sql: sql
            )
        }
        return Int(index)
    }

    func bind(_ value: SQLiteValue, named name: String) throws { try bind(value, at: parameterIndex(name)) }
    func bind(_ value: Int64?, named name: String) throws { try bind(value, at: parameterIndex(name)) }
    func bind(_ value: Int?, named name: String) throws { try bind(value, at: parameterIndex(name)) }
    func bind(_ value: Double?, named name: String) throws { try bind(value, at: parameterIndex(name)) }
    func bind(_ value: String?, named name: String) throws { try bind(value, at: parameterIndex(name)) }
    func bind(_ value: [UInt8]?, named name: String) throws { try bind(value, at: parameterIndex(name)) }
    func bind(_ value: Bool?, named name: String) throws { try bind(value, at: parameterIndex(name)) }

    /// Binds `values` to parameters 1, 2, ….
    func bind(_ values: [SQLiteValue]) throws {
        for (offset, value) in values.enumerated() { try bind(value, at: offset + 1) }
    }

    // MARK: Stepping

    /// Runs the statement to its next row. Returns true when a row is available to read, false when done.
    @discardableResult
    func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw SQLiteError(resultCode: rc, db: db, sql: sql)
        }
    }

    /// Runs the statement to completion, ignoring any rows.
    func run() throws {
        while try step() {}
    }

    /// Makes the statement ready to run again; bindings are kept.
    func reset() {
        // sqlite3_reset repeats the error of the last step, which `step` already threw.
        _ = sqlite3_reset(handle)
    }

    /// Sets every parameter back to NULL.
    func clearBindings() throws {
        try check(sqlite3_clear_bindings(handle))
    }

    // MARK: Columns

    var columnCount: Int { Int(sqlite3_column_count(handle)) }

    func columnName(at index: Int) -> String {
        sqlite3_column_name(handle, Int32(index)).map { String(cString: $0) } ?? ""
    }

    func isNull(at index: Int) -> Bool {
        sqlite3_column_type(handle, Int32(index)) == SQLITE_NULL
    }

    /// The column as an integer (0 for NULL).
    func int64(at index: Int) -> Int64 { sqlite3_column_int64(handle, Int32(index)) }
    /// The column as a double (0 for NULL).
    func double(at index: Int) -> Double { sqlite3_column_double(handle, Int32(index)) }

    /// The column as text ("" for NULL).
    func string(at index: Int) -> String {
        let i = Int32(index)
        guard let text = sqlite3_column_text(handle, i) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, i))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// The column as bytes ([] for NULL or an empty blob).
    func blob(at index: Int) -> [UInt8] {
        let i = Int32(index)
        guard let bytes = sqlite3_column_blob(handle, i) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, i))
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    /// Appends the column's bytes to `out` (nothing for NULL or an empty blob).
    func appendBlob(at index: Int, to out: inout [UInt8]) {
        let i = Int32(index)
        guard let bytes = sqlite3_column_blob(handle, i) else { return }
        out.append(contentsOf: UnsafeRawBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, i))))
    }

    func optionalInt64(at index: Int) -> Int64? { isNull(at: index) ? nil : int64(at: index) }
    func optionalDouble(at index: Int) -> Double? { isNull(at: index) ? nil : double(at: index) }
    func optionalString(at index: Int) -> String? { isNull(at: index) ? nil : string(at: index) }
    func optionalBlob(at index: Int) -> [UInt8]? { isNull(at: index) ? nil : blob(at: index) }

    /// The column with its storage class.
    func value(at index: Int) -> SQLiteValue {
        switch sqlite3_column_type(handle, Int32(index)) {
        case SQLITE_INTEGER: .integer(int64(at: index))
        case SQLITE_FLOAT: .real(double(at: index))
        case SQLITE_TEXT: .text(string(at: index))
        case SQLITE_BLOB: .blob(blob(at: index))
        default: .null
        }
    }
}
