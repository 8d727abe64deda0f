-- One page of an account's logs with ?2 < id < ?3 priced by the price table (not by a custom cost, not answered
-- from the cache: those cost 0), in id order: what repricing recomputes, as index entries (rows read by
-- `LogRowReader`). ?2 is the previous page's last id (one exclusive bound: each page is one range read).
-- include log_row_columns
FROM logs AS l
LEFT JOIN log_annotations AS a ON a.account = l.account AND a.id = l.id
WHERE l.account = ?1 AND l.id > ?2 AND l.id < ?3 AND l.custom_cost = 0 AND l.cached = 0
ORDER BY l.id
LIMIT ?4;
