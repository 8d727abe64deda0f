-- Every token not revoked, of every account: what the in-memory token directory is loaded from at start.
SELECT id, account, hash, created_at, revoked_at
FROM account_tokens
WHERE revoked_at IS NULL
ORDER BY account, created_at, id;
