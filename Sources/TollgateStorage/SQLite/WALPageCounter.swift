import CSQLite
import Synchronization

/// The pages in a connection's write-ahead log after its last commit, as SQLite reports them to the connection's WAL
/// hook (`SQLiteConnection.countWALPages(into:)`). The hook replaces SQLite's auto-checkpoint, which copies the log
/// into the database file — an fsync of each — inside the commit that fills it: the owner checkpoints instead when
/// the count says it is due, at a moment of its choosing (`Catalog.checkpointIfDue()`). A commit that finds the log
/// at `backstopPages` or more checkpoints it itself, as SQLite would have, so a connection whose owner does not
/// come round (a command that rewrites many rows, a gateway with no traffic) keeps a bounded log.
final class WALPageCounter: Sendable {
    private let pages = Atomic<Int>(0)
    let backstopPages: Int32

    init(backstopPages: Int32) {
        self.backstopPages = backstopPages
    }

    /// The log's pages after the last commit, 0 after a checkpoint until the next commit.
    var count: Int { pages.load(ordering: .relaxed) }

    func reset() { pages.store(0, ordering: .relaxed) }

    fileprivate func committed(pages: Int32, db: OpaquePointer?) {
        if pages >= backstopPages {
            // What SQLite's own hook does. A checkpoint that could not copy everything leaves the rest for the next.
            _ = sqlite3_wal_checkpoint_v2(db, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            self.pages.store(0, ordering: .relaxed)
        } else {
            self.pages.store(Int(pages), ordering: .relaxed)
        }
    }
}

extension SQLiteConnection {
    /// Turns off SQLite's auto-checkpoint on this connection below `counter.backstopPages` and has each commit report
    /// the log's pages to `counter` instead. `counter` must outlive the connection (its owner keeps both).
    func countWALPages(into counter: WALPageCounter) {
        sqlite3_wal_hook(
            handle,
            { context, db, _, pages in
                guard let context else { return SQLITE_OK }
                Unmanaged<WALPageCounter>.fromOpaque(context).takeUnretainedValue().committed(pages: pages, db: db)
                return SQLITE_OK
            }, Unmanaged.passUnretained(counter).toOpaque())
    }
}
