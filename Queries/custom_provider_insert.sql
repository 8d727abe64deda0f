-- Creates a custom provider; does nothing when the account already has one with this slug (the caller reports it).
INSERT INTO custom_providers (account, slug, base_url, api, created_at, updated_at, name)
VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)
ON CONFLICT (account, slug) DO NOTHING
