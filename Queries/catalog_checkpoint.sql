-- Copies the write-ahead log into the database file and empties it; one row: busy (0 when it did), the log's pages,
-- the pages copied.
PRAGMA wal_checkpoint(TRUNCATE)
