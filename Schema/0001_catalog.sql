-- placeholder; replaced by the catalog migration
CREATE TABLE IF NOT EXISTS schema_placeholder (x INTEGER);
