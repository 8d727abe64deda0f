-- One page of an account's logs with ?2 < id < ?3 priced by the price table (not by a custom cost, not answered
-- from the cache: those cost 0), in id order: what repricing recomputes. ?2 is the previous page's last id (one
-- exclusive bound: each page is one range read).
SELECT id, gateway, provider, model, created_at, status_code, success, duration_us, ttft_us, tokens_in,
       cached_tokens_in, cache_write_tokens, cache_write_1h_tokens, tokens_out, reasoning_tokens, service_tier, cost
FROM logs
WHERE account = ?1 AND id > ?2 AND id < ?3 AND custom_cost = 0 AND cached = 0
ORDER BY id
LIMIT ?4;
