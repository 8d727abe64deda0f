-- The location of the last record indexed for segment ?1.
SELECT segment_offset, record_length FROM logs WHERE segment = ?1 ORDER BY segment_offset DESC LIMIT 1
