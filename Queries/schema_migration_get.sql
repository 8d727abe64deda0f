-- A row when migration ?1 is recorded.
SELECT 1 FROM schema_migrations WHERE name = ?1
