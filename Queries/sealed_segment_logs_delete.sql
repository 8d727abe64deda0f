-- sealed_segment_logs_delete (`Catalog+SealedLogs.swift`).
DELETE FROM logs WHERE segment = ?1;
