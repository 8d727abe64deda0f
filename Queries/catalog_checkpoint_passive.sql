-- Copies what it can of the write-ahead log into the database file without waiting for readers or writers, as
-- SQLite's auto-checkpoint does; one row: busy (1 when it could not run), the log's pages, the pages copied.
PRAGMA wal_checkpoint(PASSIVE)
