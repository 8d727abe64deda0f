import CSQLite

/// An error from the SQLite layer: a failing library call, a misuse of the wrapper, or a database whose schema
/// this binary does not know.
///
/// It carries the SQLite result code and message and the SQL text of the statement involved, never the values bound
/// to it, so it is safe to log: prompts, keys and bodies only ever reach SQLite as bound parameters.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for matching: `catch let error as SQLiteError where error.code == .constraint`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case library
            case constraint
            case busy
            case unknownParameter
            case nestedTransaction
            case newerSchema
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// A SQLite call returned an error; `resultCode` says which.
        public static var library: Code { Code(.library) }
        /// A UNIQUE, PRIMARY KEY, NOT NULL, CHECK or FOREIGN KEY constraint failed.
        public static var constraint: Code { Code(.constraint) }
        /// The database stayed locked by another connection for longer than the busy timeout.
        public static var busy: Code { Code(.busy) }
        /// A named parameter that the statement does not have.
        public static var unknownParameter: Code { Code(.unknownParameter) }
        /// `transaction { }` inside another transaction on the same connection.
        public static var nestedTransaction: Code { Code(.nestedTransaction) }
        /// The database has migrations applied that this binary does not know: it was written by a newer version.
        public static var newerSchema: Code { Code(.newerSchema) }

        public var description: String {
            switch wrapped {
            case .library: "library"
            case .constraint: "constraint"
            case .busy: "busy"
            case .unknownParameter: "unknownParameter"
            case .nestedTransaction: "nestedTransaction"
            case .newerSchema: "newerSchema"
            }
        }

        static func forResult(_ resultCode: Int32) -> Code {
            switch resultCode & 0xFF {
            case SQLITE_CONSTRAINT: .constraint
            case SQLITE_BUSY, SQLITE_LOCKED: .busy
            default: .library
            }
        }
    }

    public var code: Code
    /// The (extended) SQLite result code, e.g. 2067 for SQLITE_CONSTRAINT_UNIQUE; `SQLITE_MISUSE` or `SQLITE_ERROR`
    /// for errors raised by the wrapper itself.
    public var resultCode: Int32
    /// `sqlite3_errmsg`, or the wrapper's own explanation.
    public var message: String
    /// The SQL text of the statement involved, if any (never the bound values).
    public var sql: String?

    init(code: Code, resultCode: Int32, message: String, sql: String?) {
        self.code = code
        self.resultCode = resultCode
        self.message = message
        self.sql = sql
    }

    /// The error for a failing call on `db`, reading the connection's current message.
    init(resultCode: Int32, db: OpaquePointer?, sql: String?) {
        let message: String
        if let db, let text = sqlite3_errmsg(db) {
            message = String(cString: text)
        } else {
            message = String(cString: sqlite3_errstr(resultCode))
        }
        self.init(code: .forResult(resultCode), resultCode: resultCode, message: message, sql: sql)
    }

    public var description: String {
        var text = "SQLiteError.\(code) (\(resultCode)): \(message)"
        if let sql { text += " in: \(sql)" }
        return text
    }
}
