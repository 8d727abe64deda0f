-- 0016_sealed_segments: a sealed segment whose columns frame holds every listing column (FORMAT.md, columns 22–34)
-- answers the logs API by itself; its logs leave the `logs` rows when it is sealed, and the catalog keeps of it only
-- what the segment cannot hold or what a listing needs to skip it unread.
--
-- sealed_segments: one row per such segment, written in the transaction that deletes its `logs` rows.
--   segment    the segment's sequence number
--   min_id     its smallest and largest record id (16 bytes, UUID byte order): listings and lookups by id skip
--   max_id     segments whose range cannot hold what they look for
--   logs       logs (not usage records) in it when it was sealed
--   names      the accounts, gateways, providers and models present, as JSON
--              {"accounts":[…],"gateways":[…],"providers":[…],"models":[…]}
--   costs      each row's cost and saved amount in picodollars, in the segment's row (append) order, as varints:
--              per row, cost then saved, each 0 for none or zigzag(value) + 1. Repricing rewrites it.
CREATE TABLE sealed_segments (
    segment INTEGER NOT NULL PRIMARY KEY,
    min_id BLOB NOT NULL CHECK (length(min_id) = 16),
    max_id BLOB NOT NULL CHECK (length(max_id) = 16),
    logs INTEGER NOT NULL,
    names TEXT NOT NULL,
    costs BLOB NOT NULL
) STRICT;
