-- 0011_log_controls: what the gateway's controls add to a log (event, attempt, step, cache hit and what it saved),
-- the human feedback patched onto a log, and the refused requests in the rollups.
--
-- New columns of `logs`, kept compact (most rows hold the defaults, which cost one byte of row header each):
--   event_id    the event's id (`cf-aig-event-id`) when it is not the log's own id: the client's event id, or the
--               first attempt's log id on a retry or a later fallback step; NULL = the log's id is its event's id
--   attempt     1-based attempt number; NULL = 1
--   step        the universal endpoint's 0-based step; NULL = a request on a provider path
--   cached      1 = answered from the gateway's response cache (its cost is 0)
--   saved       picodollars a cached answer saved: what the request would have cost; NULL when not cached or unpriced
ALTER TABLE logs ADD COLUMN event_id TEXT;
ALTER TABLE logs ADD COLUMN attempt INTEGER;
ALTER TABLE logs ADD COLUMN step INTEGER;
ALTER TABLE logs ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;
ALTER TABLE logs ADD COLUMN saved INTEGER;

-- Only logs of a retried or client-named event have an event_id: the index holds those rows alone.
CREATE INDEX logs_by_event ON logs (account, event_id, id) WHERE event_id IS NOT NULL;

-- log_annotations: human feedback on a log (`PATCH …/logs/{id}`), beside the immutable segments. One row per log
-- that has any; a row whose three values are all NULL is deleted. Deleting the log (API, retention, quota)
-- deletes its row in the same transaction.
--   account, id   as in logs
--   feedback      -1 (negative) or 1 (positive); NULL = not evaluated
--   score         0…100; NULL = none
--   metadata      JSON object replacing the request's cf-aig-metadata in what the API shows and filters on; NULL =
--                 the request's own
--   updated_at    Unix ms of the last change
CREATE TABLE log_annotations (
    account TEXT NOT NULL,
    id BLOB NOT NULL CHECK (length(id) = 16),
    feedback INTEGER CHECK (feedback IN (-1, 1)),
    score INTEGER CHECK (score BETWEEN 0 AND 100),
    metadata TEXT,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account, id)
) STRICT, WITHOUT ROWID;

-- rollup_series gains the refusal: '' for a request the gateway forwarded or answered from its cache,
-- 'rate_limited' or 'spend_limit_exceeded' for one it refused (status 429, cost 0). Its requests are the usage's
-- `rate_limited` and `spend_limited` counts. The key's unique index is rebuilt with it.
-- rollup_chunks gains the measure 'saved' (picodollars the cached requests saved, as 'cost'); a missing column
-- reads as zeros, so chunks written before hold none.
ALTER TABLE rollup_series ADD COLUMN refusal TEXT NOT NULL DEFAULT '';
DROP INDEX rollup_series_by_key;
CREATE UNIQUE INDEX rollup_series_by_key
    ON rollup_series (account, gateway, provider, model, success, cached, priced, refusal);
