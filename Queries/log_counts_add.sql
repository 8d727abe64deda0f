-- Adds ?3 to the logs stored by account ?1 in the month starting at ?2 (Unix ms).
INSERT INTO log_counts (account, month_start, stored) VALUES (?1, ?2, ?3)
ON CONFLICT (account, month_start) DO UPDATE SET stored = stored + excluded.stored;
