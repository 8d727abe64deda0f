-- Every connection enforces foreign keys (off by default in SQLite).
PRAGMA foreign_keys = ON
