-- The deleted logs whose records are still in segment ?1.
SELECT account, id FROM log_tombstones WHERE segment = ?1
