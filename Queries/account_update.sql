-- Sets an account's plan and log settings (the caller read and validated them in the same transaction).
UPDATE accounts SET tier = ?2, log_limit = ?3, log_management_strategy = ?4, retention_days = ?5 WHERE id = ?1;
