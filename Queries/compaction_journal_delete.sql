-- Segment ?1's rewritten file is in place.
DELETE FROM segment_compactions WHERE seq = ?1
