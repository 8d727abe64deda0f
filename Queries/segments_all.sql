-- Every segment, by sequence number (column order read by `Catalog.segments()`).
SELECT seq, state, first_created_at, last_created_at, record_count, bytes, sealed_at
FROM segments ORDER BY seq
