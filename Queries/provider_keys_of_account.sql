-- The provider keys of one account, by provider then alias (column order read by `Catalog.providerKey(from:)`).
SELECT id, account, provider, alias, sealed, preview, created_at FROM provider_keys WHERE account = ?1
ORDER BY provider, alias
