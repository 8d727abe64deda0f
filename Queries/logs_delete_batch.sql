-- One batch of the logs of account ?1 to delete: id > ?2 (exclusive lower bound, the previous batch's last id)
-- and id < ?3, matching the optional filters (NULL = any): gateway ?4, provider ?5, model ?6, status_code ?7,
-- success ?8, stream ?9. At most ?10 rows, in id order.
SELECT id, segment, created_at FROM logs
WHERE account = ?1 AND id > ?2 AND id < ?3
  AND (?4 IS NULL OR gateway = (SELECT n.id FROM log_names AS n WHERE n.name = ?4))
  AND (?5 IS NULL OR provider = (SELECT n.id FROM log_names AS n WHERE n.name = ?5))
  AND (?6 IS NULL OR model = (SELECT n.id FROM log_names AS n WHERE n.name = ?6))
  AND (?7 IS NULL OR status_code = ?7) AND (?8 IS NULL OR success = ?8) AND (?9 IS NULL OR stream = ?9)
ORDER BY id LIMIT ?10
