-- The record offset of segment ?1's last log counted in `log_counts`, if any.
SELECT through FROM logs_counted WHERE segment = ?1;
