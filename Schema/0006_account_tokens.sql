-- 0006_account_tokens: API tokens of an account.
--
-- An account token is sent as `Authorization: Bearer <token>` to the REST API, where it reaches only its own
-- account's logs, usage, reports and quota, and as `cf-aig-authorization: Bearer <token>` to a gateway of its
-- account that has `authentication` on. The token is shown once, when it is created; only its SHA-256 is kept,
-- so a copy of the catalog gives no usable token.

-- account_tokens: one row per token ever created; a revoked token stays listed with its revocation time.
--   id          the token's public id: 16 lowercase hex digits, random; what the API lists and revokes by
--   account     the account the token belongs to
--   hash        SHA-256 of the token exactly as sent (32 bytes)
--   created_at  Unix ms
--   revoked_at  Unix ms of revocation; NULL while the token is valid
CREATE TABLE account_tokens (
    id TEXT NOT NULL PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

CREATE INDEX account_tokens_by_account ON account_tokens (account, created_at);
