-- The table recording applied migrations; made before any migration runs, so it is not one itself.
CREATE TABLE IF NOT EXISTS schema_migrations (
    name TEXT NOT NULL PRIMARY KEY,
    applied_at INTEGER NOT NULL
) STRICT
