-- One token of an account. ?1 account, ?2 id.
SELECT id, account, hash, created_at, revoked_at
FROM account_tokens
WHERE account = ?1 AND id = ?2;
