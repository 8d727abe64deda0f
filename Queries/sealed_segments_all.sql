-- sealed_segments_all (`Catalog+SealedLogs.swift`).
SELECT segment, min_id, max_id, logs, names, costs FROM sealed_segments ORDER BY segment;
