-- An account's tokens, revoked ones included, oldest first. ?1 account.
SELECT id, account, hash, created_at, revoked_at
FROM account_tokens
WHERE account = ?1
ORDER BY created_at, id;
