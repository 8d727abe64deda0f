import Synchronization

/// A SQLite connection reached only while holding its lock.
///
/// `@unchecked Sendable` is safe because the connection is touched nowhere but inside `withConnection` /
/// `withConnectionIfAvailable`, which hold `lock` for the whole call, so one thread at a time uses it (as
/// `SQLITE_OPEN_NOMUTEX` requires). The closures get the connection for the call only and must not keep it; they
/// return `Sendable` values, so nothing tied to the connection leaves the lock.
final class LockedConnection: @unchecked Sendable {
    private let lock = Mutex(())
    private let connection: SQLiteConnection

    init(_ connection: SQLiteConnection) {
        self.connection = connection
    }

    func withConnection<T: Sendable>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try lock.withLock { _ in try body(connection) }
    }

    /// Runs `body` if the lock is free right now; nil (without running it) when another thread holds it.
    func withConnectionIfAvailable<T: Sendable>(_ body: (SQLiteConnection) throws -> T) throws -> T? {
        try lock.withLockIfAvailable { _ in try body(connection) }
    }
}
