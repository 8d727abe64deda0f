-- One page of an account's logs in [?2, ?3) (id bounds) after id ?4, oldest first: the metadata `tollgate export`
-- writes (no headers, no bodies).
SELECT id, created_at, gateway, provider, model, method, path, status_code, success, stream, duration_us, ttft_us,
       tokens_in, cached_tokens_in, cache_write_tokens, cache_write_1h_tokens, tokens_out, reasoning_tokens,
       service_tier, cost, custom_cost, error
FROM logs
WHERE account = ?1 AND id >= ?2 AND id < ?3 AND id > ?4
ORDER BY id
LIMIT ?5;
