-- The `logs` rows of segment ?1, which answers for its logs from now on (`Catalog.sealSegment`).
DELETE FROM logs WHERE segment = ?1;
