import CSQLite

/// A connection to a SQLite database: owns the `sqlite3` handle, closed in `deinit`.
///
/// Opened with `SQLITE_OPEN_NOMUTEX`: SQLite does no locking of its own, so a connection must be used by one thread
/// at a time. It is deliberately not `Sendable`; owners reach it only while holding their own lock (see
/// `LockedConnection`). Writable connections use WAL with `synchronous=NORMAL`, so readers on other connections
/// run while a write is in progress; every connection has a busy timeout and foreign keys on.
final class SQLiteConnection {
    /// How to open a connection.
    struct Options: Sendable {
        /// Open read-only (`SQLITE_OPEN_READONLY`): for reader connections of a database another connection writes.
        var readOnly: Bool = false
        /// Create the file when missing (ignored when read-only).
        var create: Bool = true
        /// How long a statement waits for a lock held by another connection before failing with `.busy`.
        var busyTimeout: Duration = .seconds(5)
        /// Most prepared statements kept by `cachedStatement(_:)`.
        var statementCacheCapacity: Int = 64

        init() {}
    }

    let handle: OpaquePointer
    /// The path given to `init`.
    let path: String
    private let statementCacheCapacity: Int
    private var statementCache: [String: SQLiteStatement] = [:]

    /// Opens (or creates) the database at `path`; `":memory:"` opens a private in-memory database.
    init(path: String, options: Options = Options()) throws {
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        if options.readOnly {
            flags |= SQLITE_OPEN_READONLY
        } else {
            flags |= SQLITE_OPEN_READWRITE
            if options.create { flags |= SQLITE_OPEN_CREATE }
        }
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let error = SQLiteError(resultCode: rc, db: db, sql: nil)
            sqlite3_close_v2(db)  // a handle is returned even on failure (nil only when out of memory)
            throw error
        }
        self.handle = db
        self.path = path
        self.statementCacheCapacity = options.statementCacheCapacity

        let milliseconds =
            options.busyTimeout.components.seconds * 1000
            + options.busyTimeout.components.attoseconds / 1_000_000_000_000_000
        try check(sqlite3_busy_timeout(db, Int32(clamping: milliseconds)), sql: nil)
        try execute(NamedQueries.sql("connection_foreign_keys"))
        if !options.readOnly {
            let mode = try prepare(NamedQueries.sql("connection_journal_wal"))
            let journalMode = try mode.step() ? mode.string(at: 0) : ""
            mode.reset()
            // An in-memory database answers "memory": it has no journal file to switch.
            guard journalMode == "wal" || journalMode == "memory" else {
                throw SQLiteError(
                    code: .library, resultCode: SQLITE_ERROR,
                    message: "could not switch to WAL (journal mode is \(journalMode))", sql: mode.sql
                )
            }
            try execute(NamedQueries.sql("connection_synchronous"))
        }
    }

    deinit {
        statementCache.removeAll()
        // close_v2 closes at once if every statement is finalized, else when the last one is.
        sqlite3_close_v2(handle)
    }

    func check(_ resultCode: Int32, sql: String?) throws {
        guard resultCode == SQLITE_OK else { throw SQLiteError(resultCode: resultCode, db: handle, sql: sql) }
    }

    // MARK: Statements

    /// Compiles one statement. Its SQL must hold exactly one statement; values are bound as parameters, never
    /// spliced into the text.
    /// Errors name the statement without the comments before it.
    func prepare(_ sql: String) throws -> SQLiteStatement {
        var statement: OpaquePointer?
        let rc = sql.withCString { sqlite3_prepare_v3(handle, $0, -1, 0, &statement, nil) }
        let text = sql.withoutLeadingComments()
        try check(rc, sql: text)
        guard let statement else {
            throw SQLiteError(
                code: .library, resultCode: SQLITE_MISUSE, message: "no statement in the SQL text", sql: text)
        }
        return SQLiteStatement(handle: statement, sql: text)
    }

    /// A statement from the connection's cache, compiled on first use, reset and with its bindings cleared.
    ///
    /// The statement stays owned by the cache: use it before asking the cache for the same SQL again, and `reset()`
    /// it when done reading (an unfinished statement holds its read transaction open).
    func cachedStatement(_ sql: String) throws -> SQLiteStatement {
        if let statement = statementCache[sql] {
            statement.reset()
            try statement.clearBindings()
            return statement
        }
        let statement = try prepare(sql)
        if statementCache.count >= statementCacheCapacity, let victim = statementCache.keys.first {
            statementCache[victim] = nil
        }
        statementCache[sql] = statement
        return statement
    }

    /// Runs a script of zero or more statements without parameters (schema changes, pragmas).
    func execute(_ script: String) throws {
        try script.withCString { start in
            var next: UnsafePointer<CChar>? = start
            while let current = next, current.pointee != 0 {
                var statement: OpaquePointer?
                var tail: UnsafePointer<CChar>?
                let rc = sqlite3_prepare_v2(handle, current, -1, &statement, &tail)
                let consumed = tail.map { $0 - current } ?? 0
                let text = String(
                    decoding: UnsafeRawBufferPointer(start: current, count: consumed), as: UTF8.self
                ).withoutLeadingComments()
                try check(rc, sql: text)
                next = tail
                guard let statement else { continue }  // whitespace or a comment
                let wrapped = SQLiteStatement(handle: statement, sql: text)
                try wrapped.run()
                if consumed == 0 { break }
            }
        }
    }

    /// Runs one statement with `values` bound to parameters 1, 2, … through the statement cache and returns the
    /// number of rows it changed.
    @discardableResult
    func run(_ sql: String, _ values: [SQLiteValue] = []) throws -> Int {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(values)
        try statement.run()
        return changes
    }

    /// Runs one query through the statement cache and maps each row.
    func query<T>(_ sql: String, _ values: [SQLiteValue] = [], row: (SQLiteStatement) throws -> T) throws -> [T] {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(values)
        var rows: [T] = []
        while try statement.step() { rows.append(try row(statement)) }
        return rows
    }

    /// The first row of a query, mapped, or nil when it returns none.
    func queryFirst<T>(_ sql: String, _ values: [SQLiteValue] = [], row: (SQLiteStatement) throws -> T) throws
        -> T?
    {
        let statement = try cachedStatement(sql)
        defer { statement.reset() }
        try statement.bind(values)
        return try statement.step() ? row(statement) : nil
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    var changes: Int { Int(sqlite3_changes64(handle)) }

    /// True while a transaction is open on this connection.
    var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    // MARK: Transactions

    /// Runs `body` in a write transaction: `BEGIN IMMEDIATE` (takes the write lock up front, so the transaction cannot
    /// fail half-way for a lock another writer holds), `COMMIT` when `body` returns, `ROLLBACK` when it throws.
    @discardableResult
    func transaction<T>(_ body: () throws -> T) throws -> T {
        guard !isInTransaction else {
            throw SQLiteError(
                code: .nestedTransaction, resultCode: SQLITE_MISUSE,
                message: "a transaction is already open on this connection", sql: nil
            )
        }
        try run(NamedQueries.sql("transaction_begin"))
        let result: T
        do {
            result = try body()
        } catch {
            if isInTransaction { _ = try? run(NamedQueries.sql("transaction_rollback")) }
            throw error
        }
        do {
            try run(NamedQueries.sql("transaction_commit"))
        } catch {
            if isInTransaction { _ = try? run(NamedQueries.sql("transaction_rollback")) }
            throw error
        }
        return result
    }
}

extension String {
    /// The statement text without the whitespace and comments before it or whitespace after it.
    fileprivate func withoutLeadingComments() -> String {
        var text = Substring(self)
        while true {
            text = text.drop(while: { $0.isWhitespace })
            if text.hasPrefix("--") {
                text = text.drop(while: { $0 != "\n" })
            } else if text.hasPrefix("/*"), let end = text.range(of: "*/") {
                text = text[end.upperBound...]
            } else {
                break
            }
        }
        return String(text).trimmingWhitespace()
    }

    fileprivate func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }
}
