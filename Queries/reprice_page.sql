-- One page of an account's logs in [?2, ?3) (id bounds) priced by the price table (not by a custom cost), after
-- id ?4, in id order: what repricing recomputes.
SELECT id, gateway, provider, model, created_at, status_code, success, duration_us, ttft_us, tokens_in,
       cached_tokens_in, cache_write_tokens, cache_write_1h_tokens, tokens_out, reasoning_tokens, service_tier, cost
FROM logs
WHERE account = ?1 AND id >= ?2 AND id < ?3 AND id > ?4 AND custom_cost = 0
ORDER BY id
LIMIT ?5;
