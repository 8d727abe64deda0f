-- Revokes a token of an account; a token revoked before keeps its first revocation time.
-- ?1 account, ?2 id, ?3 revoked_at (Unix ms).
UPDATE account_tokens SET revoked_at = coalesce(revoked_at, ?3) WHERE account = ?1 AND id = ?2;
