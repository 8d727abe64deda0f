-- 0008_segment_drops: compaction drops a segment whole when every log in it is deleted.
--
-- The dropped segment's usage records move to `usage/<seq>.usage` (a usage archive, see the segment FORMAT.md) and
-- the segment's row leaves `segments`. A journal row with dropped = 1 means: the archive `usage/<seq>.usage.new`
-- (or, once renamed, `usage/<seq>.usage`) is the truth for segment seq, and `segments/<seq>.seg` may still have to
-- be deleted; opening the store finishes both and deletes the row.
ALTER TABLE segment_compactions ADD COLUMN dropped INTEGER NOT NULL DEFAULT 0 CHECK (dropped IN (0, 1));
