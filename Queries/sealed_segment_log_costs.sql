-- sealed_segment_log_costs (`Catalog+SealedLogs.swift`).
SELECT segment_offset, cost, saved FROM logs WHERE segment = ?1;
