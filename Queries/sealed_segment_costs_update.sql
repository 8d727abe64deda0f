-- sealed_segment_costs_update (`Catalog+SealedLogs.swift`).
UPDATE sealed_segments SET costs = ?2 WHERE segment = ?1;
