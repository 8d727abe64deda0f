-- 0018_sealed_segment_blocks: where each record block of a sealed version 2 segment starts in its rows, so a log
-- found through the segment's id index has its row (and so its cost in `costs`) from its location alone, without
-- decoding the segment's columns (FORMAT.md, "Record location in a version 2 segment").
--
-- sealed_segments.blocks: per block, in file order, the block's offset minus the previous block's, then its record
--   count, as varints; NULL for a version 1 segment, one sealed before, or one being rewritten by compaction.
ALTER TABLE sealed_segments ADD COLUMN blocks BLOB;
