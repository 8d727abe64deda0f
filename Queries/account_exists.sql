-- A row when the account exists.
SELECT 1 FROM accounts WHERE id = ?1
