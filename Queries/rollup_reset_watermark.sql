-- Forgets the checkpointed position (rebuild).
DELETE FROM rollup_watermark
