-- One column of one chunk, every part (compaction rewrites it as part 0).
DELETE FROM rollup_chunks WHERE level = ?1 AND account = ?2 AND measure = ?3 AND chunk_start = ?4
