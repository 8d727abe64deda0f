-- In WAL mode, NORMAL syncs at checkpoints only: a commit survives a crash of the process, and a power loss may
-- lose the last commits but never corrupts the database.
PRAGMA synchronous = NORMAL
