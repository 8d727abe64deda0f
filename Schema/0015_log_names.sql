-- 0015_log_names: the log index names its gateway, provider and model by a small integer from a dictionary instead
-- of repeating their text in every row and in the three indexes that filter on them.
--
-- log_names: every gateway, provider and model name a log has had (one dictionary for the three: a name shared by
-- a gateway and a model has one id). Rows are only added, never changed or deleted, so an id names the same text
-- for the life of the catalog; a few hundred rows at most in practice.
--   id     1, 2, … in order of first use (one byte in a row while below 128, two below 32,768)
--   name   the text as the logs API shows and filters it
CREATE TABLE log_names (
    id INTEGER NOT NULL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
) STRICT;

INSERT INTO log_names (name)
SELECT gateway FROM logs UNION SELECT provider FROM logs UNION SELECT model FROM logs WHERE model IS NOT NULL
ORDER BY 1;

-- logs as in 0001, 0002 and 0011, with `gateway`, `provider` and `model` now ids of log_names (model NULL as before
-- when no model was named). The table is rebuilt: SQLite cannot change a column's type in place.
CREATE TABLE logs_0015 (
    account TEXT NOT NULL,
    id BLOB NOT NULL CHECK (length(id) = 16),
    gateway INTEGER NOT NULL,
    provider INTEGER NOT NULL,
    model INTEGER,
    created_at INTEGER NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status_code INTEGER NOT NULL,
    success INTEGER NOT NULL,
    stream INTEGER NOT NULL,
    duration_us INTEGER NOT NULL,
    ttft_us INTEGER,
    tokens_in INTEGER,
    cached_tokens_in INTEGER,
    cache_write_tokens INTEGER,
    cache_write_1h_tokens INTEGER,
    tokens_out INTEGER,
    reasoning_tokens INTEGER,
    service_tier TEXT,
    request_size INTEGER NOT NULL,
    response_size INTEGER NOT NULL,
    error TEXT,
    metadata TEXT,
    payload_stored INTEGER NOT NULL,
    segment INTEGER NOT NULL,
    segment_offset INTEGER NOT NULL,
    record_length INTEGER NOT NULL,
    cost INTEGER,
    custom_cost INTEGER NOT NULL DEFAULT 0,
    event_id TEXT,
    attempt INTEGER,
    step INTEGER,
    cached INTEGER NOT NULL DEFAULT 0,
    saved INTEGER,
    PRIMARY KEY (account, id)
) STRICT, WITHOUT ROWID;

INSERT INTO logs_0015
SELECT l.account, l.id, g.id, p.id, m.id, l.created_at, l.method, l.path, l.status_code, l.success, l.stream,
       l.duration_us, l.ttft_us, l.tokens_in, l.cached_tokens_in, l.cache_write_tokens, l.cache_write_1h_tokens,
       l.tokens_out, l.reasoning_tokens, l.service_tier, l.request_size, l.response_size, l.error, l.metadata,
       l.payload_stored, l.segment, l.segment_offset, l.record_length, l.cost, l.custom_cost, l.event_id, l.attempt,
       l.step, l.cached, l.saved
FROM logs AS l
JOIN log_names AS g ON g.name = l.gateway
JOIN log_names AS p ON p.name = l.provider
LEFT JOIN log_names AS m ON m.name = l.model
ORDER BY l.account, l.id;

DROP TABLE logs;
ALTER TABLE logs_0015 RENAME TO logs;

CREATE INDEX logs_by_gateway ON logs (account, gateway, id);
CREATE INDEX logs_by_provider ON logs (account, provider, id);
CREATE INDEX logs_by_model ON logs (account, model, id);
CREATE INDEX logs_by_location ON logs (segment, segment_offset);
CREATE INDEX logs_by_event ON logs (account, event_id, id) WHERE event_id IS NOT NULL;
