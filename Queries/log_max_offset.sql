-- The highest record offset indexed for segment ?1 (NULL when none is).
SELECT max(segment_offset) FROM logs WHERE segment = ?1
