-- One page of an account's logs with ?2 < id < ?3, oldest first: the index entries `tollgate export` writes, with
-- the log's annotation (rows read by `LogRowReader`, without the metadata, which the export does not write). ?2 is
-- the previous page's last id (one exclusive bound, so every page is one range read of the primary key).
-- include log_row_columns
FROM logs AS l
LEFT JOIN log_annotations AS a ON a.account = l.account AND a.id = l.id
WHERE l.account = ?1 AND l.id > ?2 AND l.id < ?3
ORDER BY l.id
LIMIT ?4;
