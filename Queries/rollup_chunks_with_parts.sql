-- The chunks that have more than one part, for compacting them all (after a rebuild).
SELECT level, account, chunk_start FROM rollup_chunks WHERE measure = 'bucket' AND piece = 0
GROUP BY level, account, chunk_start HAVING count(*) > 1
