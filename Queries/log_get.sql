-- One log's index entry with its annotation (a row read by `LogRowReader`).
-- include log_row_columns
FROM logs AS l
LEFT JOIN log_annotations AS a ON a.account = l.account AND a.id = l.id
WHERE l.account = ?1 AND l.id = ?2
