-- The custom providers of one account, by slug (column order read by `Catalog.customProvider(from:)`).
SELECT account, slug, base_url, api, created_at, updated_at, name FROM custom_providers WHERE account = ?1 ORDER BY slug
