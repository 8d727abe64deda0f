-- Every custom provider of every account, by account then slug (column order read by
-- `Catalog.customProvider(from:)`): what the proxy's directory is built from at start-up.
SELECT account, slug, base_url, api, created_at, updated_at, name FROM custom_providers ORDER BY account, slug
