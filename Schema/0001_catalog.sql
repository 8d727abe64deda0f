-- 0001_catalog: accounts, gateways, segments and the log index.
--
-- Shipped migrations are never edited: later changes go in new numbered files (0002_..., 0003_...). The runner
-- applies each file in one transaction and records its name in `schema_migrations`, which it creates itself.
--
-- Conventions:
--   * Times are integers: Unix milliseconds (UTC) for instants, microseconds for durations.
--   * Booleans are INTEGER 0/1.
--   * Enumerations (tier, strategy, segment state) are TEXT validated by Tollgate, not by CHECK constraints, so a
--     later migration can add a value without rebuilding the table.
--   * Tables are STRICT: a value of the wrong type is an error, never silently coerced.

-- accounts: a tenant. `id` matches [a-z0-9][a-z0-9-]{0,63}.
--   tier                     'free' | 'paid'
--   created_at               Unix ms
--   log_limit                most logs kept for the account; NULL = the tier's default
--   log_management_strategy  what happens at log_limit: 'stop_inserting' | 'delete_oldest'
--   retention_days           logs older than this are deleted; NULL = keep until log_limit applies
CREATE TABLE accounts (
    id TEXT NOT NULL PRIMARY KEY,
    tier TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    log_limit INTEGER,
    log_management_strategy TEXT NOT NULL DEFAULT 'stop_inserting',
    retention_days INTEGER
) STRICT;

-- gateways: a named entry point of an account, `/v1/{account}/{gateway}/{provider}/...`. `id` as for accounts,
-- unique within its account.
--   collect_logs    1 = logs are stored, 0 = requests are forwarded but not logged
--   authentication  1 = requests must carry a gateway token (cf-aig-authorization)
--   retention_days  overrides the account's retention for this gateway's logs; NULL = the account's
--   created_at      Unix ms
CREATE TABLE gateways (
    account TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id TEXT NOT NULL,
    collect_logs INTEGER NOT NULL DEFAULT 1,
    authentication INTEGER NOT NULL DEFAULT 0,
    retention_days INTEGER,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account, id)
) STRICT, WITHOUT ROWID;

-- segments: the segment files of the record store, `seq` being the number in the file name.
--   state             'active' (being appended to) | 'sealed' (closed, indexed, read-only)
--   first_created_at  created_at (Unix ms) of the oldest record in the segment; NULL while empty
--   last_created_at   created_at of the newest record; NULL while empty
--   record_count      records appended
--   bytes             file size in bytes
--   sealed_at         Unix ms of sealing; NULL while active
CREATE TABLE segments (
    seq INTEGER NOT NULL PRIMARY KEY,
    state TEXT NOT NULL,
    first_created_at INTEGER,
    last_created_at INTEGER,
    record_count INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    sealed_at INTEGER
) STRICT;

-- logs: one row per stored log record, with the fields the logs API filters and lists on and where the record
-- lives in the segment files. Derived data: it can be rebuilt from the segments (recovery re-inserts with
-- INSERT OR IGNORE), so it has no foreign keys.
--   id                  the 16 bytes of the record's UUIDv7 (big-endian): ids sort by creation time, and the first
--                       48 bits are created_at in Unix ms
--   account, gateway, provider, model   model NULL when neither request nor response named one
--   created_at          request start, Unix ms
--   method, path        as forwarded (path after /v1/{account}/{gateway}/{provider}, query string included)
--   status_code         status sent to the client
--   success, stream     0/1
--   duration_us         request start to the last byte sent to the client
--   ttft_us             request start to the first upstream body byte; NULL when none came
--   tokens_in           all input tokens, cache reads and writes included; NULL = not reported
--   cached_tokens_in    input tokens read from the provider's prompt cache
--   cache_write_tokens  input tokens written to the prompt cache
--   cache_write_1h_tokens  the part of cache_write_tokens written with a 1-hour TTL
--   tokens_out          all output tokens, reasoning included
--   reasoning_tokens    the reasoning part of tokens_out
--   service_tier        the service tier the provider reported, if any
--   request_size, response_size   body sizes in bytes
--   error               why the request failed, if it did
--   metadata            JSON object of the cf-aig-metadata entries, in the client's order; NULL when none
--   payload_stored      0 when headers and bodies were not kept
--   segment, segment_offset, record_length   where the record is: segment seq, byte offset, framed length
--
-- The primary key (account, id) clusters each account's logs in id (= time) order, so listing an account's newest
-- or oldest logs is a range read of the table itself. The secondary indexes serve the same listing filtered by
-- gateway, provider or model; logs_by_location serves recovery (highest indexed offset of a segment) and the
-- deletion of a whole segment's rows.
CREATE TABLE logs (
    account TEXT NOT NULL,
    id BLOB NOT NULL CHECK (length(id) = 16),
    gateway TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT,
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
    PRIMARY KEY (account, id)
) STRICT, WITHOUT ROWID;

CREATE INDEX logs_by_gateway ON logs (account, gateway, id);
CREATE INDEX logs_by_provider ON logs (account, provider, id);
CREATE INDEX logs_by_model ON logs (account, model, id);
CREATE INDEX logs_by_location ON logs (segment, segment_offset);

-- A fresh catalog has account `default` (tier free) with gateway `default`.
INSERT INTO accounts (id, tier, created_at)
VALUES ('default', 'free', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
INSERT INTO gateways (account, id, created_at)
SELECT id, 'default', created_at FROM accounts WHERE id = 'default';
