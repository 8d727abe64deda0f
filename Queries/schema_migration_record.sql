-- Records migration ?1 as applied now (Unix ms).
INSERT INTO schema_migrations (name, applied_at)
VALUES (?1, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
