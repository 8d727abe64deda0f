-- Logs stored by account ?1 in the month starting at ?2 (Unix ms); no row = none.
SELECT stored FROM log_counts WHERE account = ?1 AND month_start = ?2;
