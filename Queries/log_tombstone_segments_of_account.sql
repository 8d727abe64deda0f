-- Segments holding deleted logs of account ?1, with how many (of every account), by seq.
SELECT segment, count(*) FROM log_tombstones
WHERE segment IN (SELECT DISTINCT segment FROM log_tombstones WHERE account = ?1)
GROUP BY segment ORDER BY segment
