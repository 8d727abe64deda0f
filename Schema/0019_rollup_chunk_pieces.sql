-- 0019_rollup_chunk_pieces: a rollup column is stored in pieces of about 1 KB, in a rowid table keyed by an index.
--
-- A column of a chunk part is a few hundred bytes to tens of KB. Stored as one row of a WITHOUT ROWID table, anything
-- above about 1 KB spilled to overflow pages whose last was left half empty on average, and every separator in the
-- b-tree's interior pages was a whole row: on a folder of 1,000,000 generated logs, 17 of the table's 42.6 MB were
-- unused overflow space. Now each column is cut into pieces (`piece` 0, 1, … in order; the column's bytes are their
-- concatenation) of about a quarter of a page, appended to a rowid table whose leaf pages they fill, and found
-- through `rollup_chunks_by_key`, whose entries hold the key only. Rows written before this migration become piece 0
-- and are rewritten in pieces when their chunk is compacted or rebuilt; a reader joins whatever pieces there are.
--   piece   0-based position of this row's bytes in the column
CREATE TABLE rollup_chunk_pieces (
    level TEXT NOT NULL,
    account TEXT NOT NULL,
    measure TEXT NOT NULL,
    chunk_start INTEGER NOT NULL,
    part INTEGER NOT NULL,
    piece INTEGER NOT NULL,
    data BLOB NOT NULL
) STRICT;

INSERT INTO rollup_chunk_pieces (level, account, measure, chunk_start, part, piece, data)
SELECT level, account, measure, chunk_start, part, 0, data FROM rollup_chunks
ORDER BY level, account, measure, chunk_start, part;

DROP TABLE rollup_chunks;

ALTER TABLE rollup_chunk_pieces RENAME TO rollup_chunks;

CREATE UNIQUE INDEX rollup_chunks_by_key ON rollup_chunks (level, account, measure, chunk_start, part, piece);
