-- sealed_segment_insert (`Catalog+SealedLogs.swift`).
INSERT OR REPLACE INTO sealed_segments (segment, min_id, max_id, logs, names, costs) VALUES (?1, ?2, ?3, ?4, ?5, ?6);
