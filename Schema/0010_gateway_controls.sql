-- 0010_gateway_controls: a gateway's traffic controls, with Cloudflare AI Gateway's setting names.
--
-- gateways (NULL = the control is off, or the default applies):
--   cache_ttl                   seconds a cached response is served; NULL or 0 = no caching
--   cache_invalidate_on_update  1 = the gateway's cache entries are dropped when its settings change
--   rate_limiting_limit         requests allowed per rate_limiting_interval; NULL = no rate limit
--   rate_limiting_interval      seconds
--   rate_limiting_technique     'fixed' | 'sliding'
--   rate_limiting_key           NULL = one budget for the gateway, 'token' = per cf-aig-authorization token,
--                               'metadata.<key>' = per value of that cf-aig-metadata key
--   retry_max_attempts          attempts in all, 1 to 5; NULL = 1
--   retry_delay                 milliseconds before the first retry, at most 5000
--   retry_backoff               'constant' | 'linear' | 'exponential'
--   request_timeout             milliseconds to the first response byte; NULL = none
--   spend_limits                the spend limit rules as JSON (Cloudflare's shape, limits as exact decimals)
ALTER TABLE gateways ADD COLUMN cache_ttl INTEGER;
ALTER TABLE gateways ADD COLUMN cache_invalidate_on_update INTEGER NOT NULL DEFAULT 0;
ALTER TABLE gateways ADD COLUMN rate_limiting_limit INTEGER;
ALTER TABLE gateways ADD COLUMN rate_limiting_interval INTEGER;
ALTER TABLE gateways ADD COLUMN rate_limiting_technique TEXT;
ALTER TABLE gateways ADD COLUMN rate_limiting_key TEXT;
ALTER TABLE gateways ADD COLUMN retry_max_attempts INTEGER;
ALTER TABLE gateways ADD COLUMN retry_delay INTEGER;
ALTER TABLE gateways ADD COLUMN retry_backoff TEXT;
ALTER TABLE gateways ADD COLUMN request_timeout INTEGER;
ALTER TABLE gateways ADD COLUMN spend_limits TEXT;
