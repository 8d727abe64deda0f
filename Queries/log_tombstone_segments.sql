-- Segments holding deleted logs, with how many, by seq.
SELECT segment, count(*) FROM log_tombstones GROUP BY segment ORDER BY segment
