-- Segment ?1's rewritten file is the truth from now on (Unix ms ?2); the rename may be pending.
INSERT OR REPLACE INTO segment_compactions (seq, started_at) VALUES (?1, ?2)
