-- 0012_custom_providers: providers an account adds at run time, proxied at `/v1/{account}/{gateway}/custom-{slug}/…`
-- on that account's gateways only.
--   account     the owning account; deleting it deletes its custom providers
--   slug        lowercase letters, digits and dashes, unique within the account (the path says `custom-{slug}`)
--   base_url    what the forwarded path is appended to: https, or http to a loopback host
--   api         the wire format whose usage is parsed: 'openai' | 'anthropic' | 'gemini' | 'none' (no usage)
--   created_at, updated_at   Unix ms
CREATE TABLE custom_providers (
    account TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    slug TEXT NOT NULL,
    base_url TEXT NOT NULL,
    api TEXT NOT NULL CHECK (api IN ('openai', 'anthropic', 'gemini', 'none')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account, slug)
) STRICT, WITHOUT ROWID;
