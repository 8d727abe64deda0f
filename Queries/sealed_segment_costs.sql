-- The costs of sealed segment ?1's rows, as `SegmentCosts` encodes them (`SealedLogs.costs`, when a listing or a
-- lookup needs them and they are not in memory).
SELECT costs FROM sealed_segments WHERE segment = ?1;
