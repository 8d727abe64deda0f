-- 0014_custom_provider_names: a custom provider's display name (Cloudflare's `name`); NULL shows the slug.
ALTER TABLE custom_providers ADD COLUMN name TEXT;
