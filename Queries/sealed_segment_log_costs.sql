-- The cost and saved amount of each `logs` row of segment ?1, by its offset, as the segment is sealed
-- (`Catalog.sealSegment`).
SELECT segment_offset, cost, saved FROM logs WHERE segment = ?1;
