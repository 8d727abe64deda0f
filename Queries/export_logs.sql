-- One page of an account's logs with ?2 < id < ?3, oldest first: the index entries `tollgate export` writes (no
-- metadata, which it does not write), with the log's annotation (column order read by `Catalog.exportedEntry`). ?2
-- is the previous page's last id (one exclusive bound, so every page is one range read of the primary key).
-- Gateway, provider and model are `log_names` ids, which the export resolves from its own copy of that table
-- (`export_log_names`) rather than with a lookup per row.
SELECT l.id, l.created_at, l.gateway, l.provider, l.model, l.method, l.path, l.status_code, l.success, l.stream,
       l.duration_us, l.ttft_us, l.tokens_in, l.cached_tokens_in, l.cache_write_tokens, l.cache_write_1h_tokens,
       l.tokens_out, l.reasoning_tokens, l.service_tier, l.cost, l.custom_cost, l.error, l.event_id, l.attempt,
       l.step, l.cached, l.saved, a.feedback, a.score, l.request_size, l.response_size, l.payload_stored, l.segment,
       l.segment_offset, l.record_length
FROM logs AS l
LEFT JOIN log_annotations AS a ON a.account = l.account AND a.id = l.id
WHERE l.account = ?1 AND l.id > ?2 AND l.id < ?3
ORDER BY l.id
LIMIT ?4;
