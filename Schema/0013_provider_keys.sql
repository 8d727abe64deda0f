-- 0013_provider_keys: provider keys an account keeps in the gateway, put into the requests of its authenticated
-- gateways that carry no key of their own.
--   id          random identifier, what the API deletes by
--   account     the owning account; deleting it deletes its keys
--   provider    the provider slug the key is for (`openai`, `anthropic`, `custom-{slug}`, …)
--   alias       picked by `cf-aig-byok-alias`; `default` when not named; one key per provider and alias
--   sealed      the secret encrypted with AES-GCM under the gateway's master key (nonce, ciphertext, tag)
--   preview     the secret's last 4 characters, shown in listings
--   created_at  Unix ms
CREATE TABLE provider_keys (
    id TEXT NOT NULL PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    alias TEXT NOT NULL,
    sealed BLOB NOT NULL,
    preview TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (account, provider, alias)
) STRICT;
