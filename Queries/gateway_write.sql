-- Writes every setting of a gateway.
UPDATE gateways SET collect_logs = ?3, stream_usage = ?4, authentication = ?5, retention_days = ?6,
    cache_ttl = ?7, cache_invalidate_on_update = ?8, rate_limiting_limit = ?9,
    rate_limiting_interval = ?10, rate_limiting_technique = ?11, rate_limiting_key = ?12,
    retry_max_attempts = ?13, retry_delay = ?14, retry_backoff = ?15, request_timeout = ?16,
    spend_limits = ?17
WHERE account = ?1 AND id = ?2
