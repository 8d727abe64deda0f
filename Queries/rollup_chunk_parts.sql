-- The highest part number and the part count of one chunk (-1, 0 when it has none).
SELECT coalesce(max(part), -1), count(*) FROM rollup_chunks
WHERE level = ?1 AND account = ?2 AND measure = 'bucket' AND chunk_start = ?3 AND piece = 0
