-- The gateways of one account, by id (column order read by `Catalog.gateway(from:)`).
SELECT account, id, collect_logs, authentication, retention_days, created_at, stream_usage, cache_ttl,
       cache_invalidate_on_update, rate_limiting_limit, rate_limiting_interval, rate_limiting_technique,
       rate_limiting_key, retry_max_attempts, retry_delay, retry_backoff, request_timeout, spend_limits
FROM gateways WHERE account = ?1 ORDER BY id
