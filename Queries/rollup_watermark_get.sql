-- The last checkpointed position.
SELECT segment, segment_offset FROM rollup_watermark WHERE id = 1
