-- Deletes every rollup chunk (rebuild).
DELETE FROM rollup_chunks
