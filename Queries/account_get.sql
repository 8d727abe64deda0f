-- One account (column order read by `Catalog.account(from:)`).
SELECT id, tier, created_at, log_limit, log_management_strategy, retention_days FROM accounts WHERE id = ?1
