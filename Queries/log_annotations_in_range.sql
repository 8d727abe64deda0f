-- log_annotations_in_range (`Catalog+SealedLogs.swift`).
SELECT id, feedback, score, metadata FROM log_annotations WHERE account = ?1 AND id >= ?2 AND id <= ?3;
