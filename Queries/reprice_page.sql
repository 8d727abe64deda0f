-- One page of an account's logs with ?2 < id < ?3 priced by the price table (not by a custom cost, not answered
-- from the cache: those cost 0), in id order: what repricing recomputes. ?2 is the previous page's last id (one
-- exclusive bound: each page is one range read).
SELECT l.id, (SELECT n.name FROM log_names AS n WHERE n.id = l.gateway),
       (SELECT n.name FROM log_names AS n WHERE n.id = l.provider),
       (SELECT n.name FROM log_names AS n WHERE n.id = l.model), l.created_at, l.status_code, l.success,
       l.duration_us, l.ttft_us, l.tokens_in, l.cached_tokens_in, l.cache_write_tokens, l.cache_write_1h_tokens,
       l.tokens_out, l.reasoning_tokens, l.service_tier, l.cost
FROM logs AS l
WHERE l.account = ?1 AND l.id > ?2 AND l.id < ?3 AND l.custom_cost = 0 AND l.cached = 0
ORDER BY l.id
LIMIT ?4;
