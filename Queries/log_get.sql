-- One log's index entry with its annotation (column order read by `Catalog.entry(from:)`).
SELECT l.account, l.id, (SELECT n.name FROM log_names AS n WHERE n.id = l.gateway),
       (SELECT n.name FROM log_names AS n WHERE n.id = l.provider),
       (SELECT n.name FROM log_names AS n WHERE n.id = l.model), l.created_at, l.method, l.path, l.status_code,
       l.success, l.stream, l.duration_us, l.ttft_us, l.tokens_in, l.cached_tokens_in, l.cache_write_tokens,
       l.cache_write_1h_tokens, l.tokens_out, l.reasoning_tokens, l.service_tier, l.request_size, l.response_size,
       l.error, l.metadata, l.payload_stored, l.segment, l.segment_offset, l.record_length, l.cost, l.custom_cost,
       l.event_id, l.attempt, l.step, l.cached, l.saved, a.feedback, a.score, a.metadata
FROM logs AS l
LEFT JOIN log_annotations AS a ON a.account = l.account AND a.id = l.id
WHERE l.account = ?1 AND l.id = ?2
