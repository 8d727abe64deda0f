-- One log's index entry (column order read by `Catalog.entry(from:)`).
SELECT account, id, gateway, provider, model, created_at, method, path, status_code, success, stream, duration_us,
       ttft_us, tokens_in, cached_tokens_in, cache_write_tokens, cache_write_1h_tokens, tokens_out, reasoning_tokens,
       service_tier, request_size, response_size, error, metadata, payload_stored, segment, segment_offset,
       record_length, cost, custom_cost
FROM logs WHERE account = ?1 AND id = ?2
