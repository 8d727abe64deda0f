-- 0007_log_deletion: deleting logs (API, retention) and compacting the segments that still hold their content.
--
-- Deleting a log removes its index row at once (and its count in log_counts, in the same transaction); its bytes
-- stay in a segment until compaction rewrites that segment, turning the record into a usage record (no path,
-- payload, metadata or error) so usage and reports keep counting the request.

-- log_tombstones: logs deleted from the index whose content is still in a segment file.
--   segment       seq of the segment holding the record
--   account, id   as in logs
-- Recovery never re-indexes a tombstoned record found in a tail segment; compaction picks the segments named
-- here, and deletes each tombstone in the transaction that moves the index to the rewritten file.
CREATE TABLE log_tombstones (
    segment INTEGER NOT NULL,
    account TEXT NOT NULL,
    id BLOB NOT NULL CHECK (length(id) = 16),
    PRIMARY KEY (segment, account, id)
) STRICT, WITHOUT ROWID;

-- segment_compactions: the compaction journal. A row means the rewritten file `segments/<seq>.seg.compact` is the
-- truth for segment seq (the index already points into it) and may still have to be renamed over `<seq>.seg`;
-- opening the store finishes the rename and deletes the row.
--   seq          the segment being replaced
--   started_at   Unix ms of the commit
CREATE TABLE segment_compactions (
    seq INTEGER NOT NULL PRIMARY KEY,
    started_at INTEGER NOT NULL
) STRICT;
