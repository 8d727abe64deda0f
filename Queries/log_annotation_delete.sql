-- Deletes one log's annotation (the log is deleted, or its annotation cleared).
DELETE FROM log_annotations WHERE account = ?1 AND id = ?2
