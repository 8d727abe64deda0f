-- Deletes one provider key of an account, answering what the proxy's directory must forget.
DELETE FROM provider_keys WHERE account = ?1 AND id = ?2 RETURNING provider, alias
