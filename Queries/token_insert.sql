-- Stores a new token of an existing account (no row is inserted when the account does not exist).
-- ?1 id, ?2 account, ?3 SHA-256 of the token, ?4 created_at (Unix ms).
INSERT INTO account_tokens (id, account, hash, created_at)
SELECT ?1, id, ?3, ?4 FROM accounts WHERE id = ?2;
