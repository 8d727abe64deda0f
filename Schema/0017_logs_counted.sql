-- 0017_logs_counted: the logs of a segment being written are no longer `logs` rows; the segment's records and the
-- catalog's memory (rebuilt from them on open) answer for them until it is sealed (0016). What must outlive a crash
-- is which of them `log_counts` already counts, so recovery counts the others and nothing twice.
--
-- logs_counted: one row per segment not yet sealed in the catalog that has counted logs.
--   segment  the segment's sequence number
--   through  the record offset (FORMAT.md, "Record location") of its last log counted in `log_counts`; every log
--            of the segment at or before it is counted
-- The row goes in the transaction that records the segment sealed.
CREATE TABLE logs_counted (
    segment INTEGER NOT NULL PRIMARY KEY,
    through INTEGER NOT NULL
) STRICT;
