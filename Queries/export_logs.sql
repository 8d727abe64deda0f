-- One page of an account's logs with ?2 < id < ?3, oldest first: the metadata `tollgate export` writes (no
-- headers, no bodies). ?2 is the previous page's last id (one exclusive bound, so every page is one range read of
-- the primary key).
SELECT id, created_at, gateway, provider, model, method, path, status_code, success, stream, duration_us, ttft_us,
       tokens_in, cached_tokens_in, cache_write_tokens, cache_write_1h_tokens, tokens_out, reasoning_tokens,
       service_tier, cost, custom_cost, error
FROM logs
WHERE account = ?1 AND id > ?2 AND id < ?3
ORDER BY id
LIMIT ?4;
