-- One column of an account's chunks of one level starting in [?4, ?5), every part, each in its pieces in order.
SELECT chunk_start, part, data FROM rollup_chunks
WHERE level = ?1 AND account = ?2 AND measure = ?3 AND chunk_start >= ?4 AND chunk_start < ?5
ORDER BY chunk_start, part, piece
