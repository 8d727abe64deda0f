-- log_tombstone_exists (`Catalog+SealedLogs.swift`).
SELECT 1 FROM log_tombstones WHERE segment = ?1 AND account = ?2 AND id = ?3;
