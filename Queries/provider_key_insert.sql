-- Stores a provider key; does nothing when the account already has one for this provider and alias (the caller
-- reports it).
INSERT INTO provider_keys (id, account, provider, alias, sealed, preview, created_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (account, provider, alias) DO NOTHING
