-- One column of one chunk, every part but the base (compaction of the deltas alone rewrites them as part 1).
DELETE FROM rollup_chunks WHERE level = ?1 AND account = ?2 AND measure = ?3 AND chunk_start = ?4 AND part >= 1
