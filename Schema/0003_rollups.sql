-- 0003_rollups: usage rollups, per series and UTC bucket at four levels (minute, hour, day, month), stored as
-- columns. Derived data: `tollgate` can delete every row and rebuild them from the segments. The layout, the blob
-- encodings and how a query picks levels are in Sources/TollgateAnalytics/Rollup/LAYOUT.md.

-- rollup_series: the series dictionary. One row per distinct key of requests rolled up; chunks refer to it by id.
--   id          series id, referenced by the `series` column of rollup_chunks
--   account, gateway, provider   as in logs
--   model       '' when the request named none
--   success     0/1, as in logs
--   cached      0/1: served from a gateway cache
--   priced      0/1: the requests had a cost (a price was known); unpriced requests count in their own series
CREATE TABLE rollup_series (
    id INTEGER NOT NULL PRIMARY KEY,
    account TEXT NOT NULL,
    gateway TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    success INTEGER NOT NULL,
    cached INTEGER NOT NULL,
    priced INTEGER NOT NULL
) STRICT;

CREATE UNIQUE INDEX rollup_series_by_key ON rollup_series (account, gateway, provider, model, success, cached, priced);

-- rollup_chunks: one column of one part of a chunk. A chunk is a run of buckets of one level for one account: an
-- hour of minute buckets, a UTC day of hour buckets, a UTC month of day buckets, a UTC year of month buckets. Each
-- checkpoint appends the cells that changed since the previous one as a new part; a chunk with many parts is
-- compacted back into part 0. A chunk's value is the sum of its parts.
--   level        'minute' | 'hour' | 'day' | 'month'
--   account      as in logs
--   measure      the column: 'bucket' (bucket number within the chunk), 'series' (rollup_series.id), 'requests',
--                'tokens_in', 'tokens_out', 'cached_tokens_in', 'cache_write_tokens', 'reasoning_tokens', 'cost'
--                (picodollars), 'latency' and 'ttft' (quantile sketches of µs); a column whose values are all zero
--                is not stored
--   chunk_start  Unix ms (UTC) of the chunk's first bucket
--   part         0 = compacted base, 1… = deltas in checkpoint order
--   data         varint-encoded values, one per cell of the part, in (bucket, series) order
--
-- The key order (level, account, measure, chunk_start) keeps a measure of an account's chunks contiguous, so a query
-- reads the columns it needs over a time range and nothing else.
CREATE TABLE rollup_chunks (
    level TEXT NOT NULL,
    account TEXT NOT NULL,
    measure TEXT NOT NULL,
    chunk_start INTEGER NOT NULL,
    part INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (level, account, measure, chunk_start, part)
) STRICT, WITHOUT ROWID;

-- rollup_watermark: the position in the record store up to which every record is in rollup_chunks (one row, id 1).
--   segment          segment seq
--   segment_offset   byte offset in that segment after the last record rolled up
--   checkpointed_at  Unix ms of the checkpoint that wrote it
CREATE TABLE rollup_watermark (
    id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    segment INTEGER NOT NULL,
    segment_offset INTEGER NOT NULL,
    checkpointed_at INTEGER NOT NULL
) STRICT;
