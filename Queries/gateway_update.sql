-- Changes the settings given (NULL keeps one as it is); ?6 says whether ?7 is a new retention (NULL = the
-- account's).
UPDATE gateways SET collect_logs = coalesce(?3, collect_logs), stream_usage = coalesce(?4, stream_usage),
    authentication = coalesce(?5, authentication),
    retention_days = CASE WHEN ?6 THEN ?7 ELSE retention_days END
WHERE account = ?1 AND id = ?2
