-- The writer switches the database to write-ahead logging, so readers run beside a write; answers the mode now
-- in force.
PRAGMA journal_mode = WAL
