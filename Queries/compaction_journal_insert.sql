-- Segment ?1's rewritten file (?3 = 0) or usage archive (?3 = 1, the segment is dropped) is the truth from now on
-- (Unix ms ?2); the rename, and for a drop the deletion of the segment file, may be pending.
INSERT OR REPLACE INTO segment_compactions (seq, started_at, dropped) VALUES (?1, ?2, ?3)
