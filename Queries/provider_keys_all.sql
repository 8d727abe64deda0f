-- Every provider key of every account (column order read by `Catalog.providerKey(from:)`): what the proxy's
-- directory is built from at start-up.
SELECT id, account, provider, alias, sealed, preview, created_at FROM provider_keys ORDER BY account, provider, alias
