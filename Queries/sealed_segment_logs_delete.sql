-- The `logs` rows of segment ?1, whose logs are answered for elsewhere from now on: by its columns once it is sealed
-- (`Catalog.sealSegment`), or from memory while it is being written (`Catalog.restoreActiveLogs`, a segment begun
-- before logs of the segment being written were kept in memory).
DELETE FROM logs WHERE segment = ?1;
