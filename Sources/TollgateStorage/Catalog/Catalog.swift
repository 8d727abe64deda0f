import Foundation
import Logging
import Synchronization
import TollgateModel

/// The SQLite catalog: accounts, gateways, segments and the log index, in `<dataDirectory>/catalog.sqlite`.
///
/// One writer connection, used under its lock, serializes every write; a small pool of read-only connections serves
/// reads, which WAL lets run while a write is in progress. Every method is synchronous and short, and runs on the
/// caller's thread: callers on an event loop move the call off it first.
///
/// Opening applies the migrations the database lacks (`Migrations.all`); a database written by a newer version is
/// refused with `SQLiteError.Code.newerSchema`. A fresh catalog has account `default` (tier free) with gateway
/// `default`.
public final class Catalog: Sendable {
    public struct Configuration: Sendable {
        /// Read-only connections for concurrent reads.
        public var readerCount: Int = 2
        /// How long a statement waits for a lock held by another connection (e.g. another process).
        public var busyTimeout: Duration = .seconds(5)

        public init() {}
    }

    /// The database file name inside the data directory.
    public static let fileName = "catalog.sqlite"

    /// The database file.
    public let path: String
    let writer: LockedConnection
    /// The write-ahead log's pages after the writer's last commit: the writer's commits do not checkpoint
    /// (`checkpointIfDue()`).
    private let walPages = WALPageCounter(backstopPages: Int32(Catalog.checkpointPages * 4))
    let readers: [LockedConnection]
    private let nextReader = Atomic<Int>(0)
    /// The current time in Unix milliseconds, for `created_at` columns.
    let now: @Sendable () -> Int64
    /// The sealed segments that answer for their own logs (`Catalog+SealedLogs.swift`).
    let sealedLogs: SealedLogs
    /// The catalog's copy of `log_names`, which log rows' names are resolved from (`LogRowReader`).
    let logNames = LogNameCache()

    /// Opens (creating if needed) the catalog in `dataDirectory`, creating the directory too.
    ///
    /// - Parameter now: the clock for `created_at` values (Unix ms); tests inject their own.
    public init(
        dataDirectory: String,
        configuration: Configuration = Configuration(),
        logger: Logger = Logger(label: "tollgate.catalog", factory: { _ in SwiftLogNoOpLogHandler() }),
        now: @escaping @Sendable () -> Int64 = TollgateClock.system.wallMilliseconds
    ) throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let path = URL(fileURLWithPath: dataDirectory).appendingPathComponent(Self.fileName).path
        self.path = path
        self.now = now

        var writeOptions = SQLiteConnection.Options()
        writeOptions.busyTimeout = configuration.busyTimeout
        let writeConnection = try SQLiteConnection(path: path, options: writeOptions)
        let applied = try SQLiteMigrator().migrate(writeConnection)
        if !applied.isEmpty {
            // A migration may rewrite a table (0019 the rollups): its pages go into the file now, and the
            // write-ahead log, as large as what was rewritten, is emptied rather than kept at that size.
            let emptied = try Self.checkpoint(writeConnection)
            logger.info(
                "catalog migrated",
                metadata: [
                    "catalog.path": "\(path)", "catalog.migrations": "\(applied.joined(separator: ","))",
                    "catalog.log_emptied": "\(emptied)",
                ]
            )
        }
        sealedLogs = SealedLogs(reader: SegmentReader(directory: dataDirectory))
        try Self.loadSealedLogs(writeConnection, into: sealedLogs)
        writeConnection.countWALPages(into: walPages)
        writer = LockedConnection(writeConnection)

        var readOptions = SQLiteConnection.Options()
        readOptions.readOnly = true
        readOptions.busyTimeout = configuration.busyTimeout
        readers = try (0..<max(1, configuration.readerCount)).map { _ in
            LockedConnection(try SQLiteConnection(path: path, options: readOptions))
        }
    }

    /// Runs `body` on the writer connection, under its lock. Not reentrant: `body` must not call `write` again.
    /// Internal: other modules get typed calls (`Catalog+*.swift`, `RollupStore`), never a connection.
    @discardableResult
    func write<T: Sendable>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try writer.withConnection(body)
    }

    /// Copies the write-ahead log into the database file and empties it: what a clean close does, so a stopped
    /// gateway leaves its catalog in one file rather than most of it in `catalog.sqlite-wal`. False when a reader's
    /// snapshot kept the log from being emptied (then it stays for the next checkpoint; nothing is lost either way).
    @discardableResult
    public func checkpoint() throws -> Bool {
        try write(Self.checkpoint)
    }

    /// Pages of write-ahead log past which `checkpointIfDue()` copies it into the database file: SQLite's own
    /// auto-checkpoint threshold. A commit that finds four times as many checkpoints the log itself
    /// (`WALPageCounter`): writes that no log commit follows (a command, a gateway without traffic) stay bounded.
    static let checkpointPages = 1000

    /// Copies the write-ahead log into the database file once the writer's commits have grown it past
    /// `checkpointPages`, as SQLite's auto-checkpoint would inside the commit that did. The log store calls it after a
    /// commit, outside its own lock: a checkpoint fsyncs the log and the file, and appends do not wait for that.
    /// Writers of the catalog wait meanwhile, readers do not (a passive checkpoint copies what no reader still
    /// needs; the rest waits for the next one). Returns whether it ran.
    @discardableResult
    public func checkpointIfDue() throws -> Bool {
        guard walPages.count >= Self.checkpointPages else { return false }
        try write { db in
            walPages.reset()
            _ = try db.queryFirst(NamedQueries.sql("catalog_checkpoint_passive")) { $0.int64(at: 0) }
        }
        return true
    }

    /// The write-ahead log's pages after the writer's last commit (0 after a checkpoint, until the next commit).
    var writeAheadLogPages: Int { walPages.count }

    /// The checkpoint on `connection` (the writer's, which at open is not yet behind its lock).
    private static func checkpoint(_ connection: SQLiteConnection) throws -> Bool {
        try connection.queryFirst(NamedQueries.sql("catalog_checkpoint")) { $0.int64(at: 0) == 0 } ?? false
    }

    /// Runs `body` on a free reader connection (the next one in turn if all are busy).
    func read<T: Sendable>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        let start = Int(UInt(bitPattern: nextReader.wrappingAdd(1, ordering: .relaxed).oldValue) % UInt(readers.count))
        for step in 0..<readers.count {
            let reader = readers[(start + step) % readers.count]
            if let result = try reader.withConnectionIfAvailable(body) { return result }
        }
        return try readers[start].withConnection(body)
    }
}
