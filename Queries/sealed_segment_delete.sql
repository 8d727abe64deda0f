-- sealed_segment_delete (`Catalog+SealedLogs.swift`).
DELETE FROM sealed_segments WHERE segment = ?1;
