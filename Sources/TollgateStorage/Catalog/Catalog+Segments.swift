extension Catalog {
    /// Records a segment's current state, inserting it or replacing what the catalog had.
    public func upsertSegment(_ segment: SegmentEntry) throws {
        try write { db in try Self.upsertSegment(segment, in: db) }
    }

    static func upsertSegment(_ segment: SegmentEntry, in db: SQLiteConnection) throws {
        _ = try db.run(
            NamedQueries.sql("segment_upsert"),
            [
                .integer(Int64(segment.seq)), .text(segment.state.rawValue), .integer(segment.firstCreatedAt),
                .integer(segment.lastCreatedAt), .integer(segment.recordCount), .integer(segment.bytes),
                .integer(segment.sealedAt),
            ]
        )
    }

    /// Marks a segment sealed with its final figures.
    ///
    /// - Throws: `CatalogError.Code.segmentNotFound` when the catalog has no such segment.
    public func markSealed(
        seq: UInt32, firstCreatedAt: Int64?, lastCreatedAt: Int64?, recordCount: Int64, bytes: Int64,
        sealedAt: Int64
    ) throws {
        let changed = try write { db in
            try db.run(
                NamedQueries.sql("segment_seal"),
                [
                    .integer(Int64(seq)), .integer(firstCreatedAt), .integer(lastCreatedAt), .integer(recordCount),
                    .integer(bytes), .integer(sealedAt),
                ]
            )
        }
        guard changed == 1 else {
            throw CatalogError(
                code: .segmentNotFound, parameter: "seq", message: "segment \(seq) is not in the catalog")
        }
    }

    /// Every segment, by seq.
    public func segments() throws -> [SegmentEntry] {
        try read { db in
            try db.query(NamedQueries.sql("segments_all")) { row in
                guard let state = SegmentEntry.State(rawValue: row.string(at: 1)) else {
                    throw CatalogError(
                        code: .invalidValue,
                        message: "segment \(row.int64(at: 0)) has unknown state \(row.string(at: 1))"
                    )
                }
                return SegmentEntry(
                    seq: UInt32(truncatingIfNeeded: row.int64(at: 0)), state: state,
                    firstCreatedAt: row.optionalInt64(at: 2), lastCreatedAt: row.optionalInt64(at: 3),
                    recordCount: row.int64(at: 4), bytes: row.int64(at: 5), sealedAt: row.optionalInt64(at: 6)
                )
            }
        }
    }
}

// MARK: Compaction

extension Catalog {
    /// A live log whose record moved in a rewritten segment.
    public struct Relocation: Sendable {
        public var key: LogKey
        public var location: RecordLocation
        public init(key: LogKey, location: RecordLocation) {
            self.key = key
            self.location = location
        }
    }

    /// The commit point of a segment's compaction, in one transaction: journals the segment (its rewritten file
    /// is now the truth), moves the index rows of the live logs whose records moved, forgets the tombstones of the
    /// logs that became usage records, and records the segment's new figures. A log deleted after the rewrite
    /// started has no row to move and keeps its tombstone for the next pass.
    public func commitCompaction(
        segment: SegmentEntry, relocated: [Relocation], purged: [LogKey], at now: Int64
    ) throws {
        sealedLogs.setBlockRows(nil, of: segment.seq)
        try write { db in
            try db.transaction {
                _ = try db.run(
                    NamedQueries.sql("compaction_journal_insert"),
                    [.integer(Int64(segment.seq)), .integer(now), .integer(0)])
                let move = try db.cachedStatement(NamedQueries.sql("logs_relocate"))
                for r in relocated {
                    try move.bind([
                        .text(r.key.account), .blob(r.key.id.bytes), .integer(Int64(segment.seq)),
                        .integer(Int64(bitPattern: r.location.offset)), .integer(Int64(r.location.length)),
                    ])
                    try move.run()
                    move.reset()
                }
                // A segment that answers for its logs keeps their tombstones until its rewritten file is in place
                // (`sealedSegmentRewritten`): until then its listing still reads the old file's columns.
                if self.sealedLogs.segment(segment.seq) == nil {
                    try forgetTombstones(purged, segment: segment.seq, in: db)
                } else {
                    // Its blocks move in the rewrite: no block rows until the new file is in place.
                    try db.run(
                        NamedQueries.sql("sealed_segment_blocks_set"), [.integer(Int64(segment.seq)), .null])
                }
                _ = try db.run(
                    NamedQueries.sql("segment_upsert"),
                    [
                        .integer(Int64(segment.seq)), .text(segment.state.rawValue),
                        .integer(segment.firstCreatedAt), .integer(segment.lastCreatedAt),
                        .integer(segment.recordCount), .integer(segment.bytes), .integer(segment.sealedAt),
                    ])
            }
        }
    }

    /// The commit point of dropping a segment whose logs are all deleted, in one transaction: journals the drop
    /// (the segment's usage archive is now the truth), forgets the tombstones of its logs, and removes the
    /// segment's row. No index row points into the segment: every log of it was deleted.
    public func commitDrop(segment seq: UInt32, purged: [LogKey], at now: Int64) throws {
        try write { db in
            try db.transaction {
                _ = try db.run(
                    NamedQueries.sql("compaction_journal_insert"), [.integer(Int64(seq)), .integer(now), .integer(1)])
                try forgetTombstones(purged, segment: seq, in: db)
                _ = try db.run(NamedQueries.sql("segment_delete"), [.integer(Int64(seq))])
                _ = try db.run(NamedQueries.sql("sealed_segment_delete"), [.integer(Int64(seq))])
            }
        }
        sealedLogs.remove(seq)
    }

    func forgetTombstones(_ keys: [LogKey], segment: UInt32, in db: SQLiteConnection) throws {
        let forget = try db.cachedStatement(NamedQueries.sql("log_tombstone_delete"))
        for key in keys {
            try forget.bind([.integer(Int64(segment)), .text(key.account), .blob(key.id.bytes)])
            try forget.run()
            forget.reset()
        }
    }

    /// A committed compaction whose files may not be in place yet.
    public struct PendingCompaction: Sendable, Equatable {
        public var seq: UInt32
        /// The segment was dropped (its usage archive replaces it), not rewritten.
        public var dropped: Bool
    }

    /// Compactions that committed but whose rewritten file or usage archive may not be in place yet, by seq.
    public func pendingCompactions() throws -> [PendingCompaction] {
        try read { db in
            try db.query(NamedQueries.sql("compaction_journal_all")) {
                PendingCompaction(seq: UInt32(truncatingIfNeeded: $0.int64(at: 0)), dropped: $0.int64(at: 1) != 0)
            }
        }
    }

    /// The rewritten file (or usage archive) of `seq` is in place.
    public func finishCompaction(seq: UInt32) throws {
        try write { db in
            _ = try db.run(NamedQueries.sql("compaction_journal_delete"), [.integer(Int64(seq))])
        }
    }
}
