-- One page of an account's logs with ?2 < id < ?3 priced by the price table (not by a custom cost, not answered
-- from the cache: those cost 0), in id order: what repricing recomputes, as index entries (column order read by
-- `Catalog.entry(from:)`). ?2 is the previous page's last id (one exclusive bound: each page is one range read).
SELECT l.account, l.id, (SELECT n.name FROM log_names AS n WHERE n.id = l.gateway),
       (SELECT n.name FROM log_names AS n WHERE n.id = l.provider),
       (SELECT n.name FROM log_names AS n WHERE n.id = l.model), l.created_at, l.method, l.path, l.status_code,
       l.success, l.stream, l.duration_us, l.ttft_us, l.tokens_in, l.cached_tokens_in, l.cache_write_tokens,
       l.cache_write_1h_tokens, l.tokens_out, l.reasoning_tokens, l.service_tier, l.request_size, l.response_size,
       l.error, l.metadata, l.payload_stored, l.segment, l.segment_offset, l.record_length, l.cost, l.custom_cost,
       l.event_id, l.attempt, l.step, l.cached, l.saved, a.feedback, a.score, a.metadata
FROM logs AS l
LEFT JOIN log_annotations AS a ON a.account = l.account AND a.id = l.id
WHERE l.account = ?1 AND l.id > ?2 AND l.id < ?3 AND l.custom_cost = 0 AND l.cached = 0
ORDER BY l.id
LIMIT ?4;
