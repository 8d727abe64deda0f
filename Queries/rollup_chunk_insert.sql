-- One piece of one column of one chunk part.
INSERT INTO rollup_chunks (level, account, measure, chunk_start, part, piece, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
