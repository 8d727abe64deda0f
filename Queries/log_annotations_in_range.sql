-- The annotations of account ?1's logs with ids in [?2, ?3]: one sealed segment's id range, read with its
-- columns by a listing (`Catalog.sealedPage`).
SELECT id, feedback, score, metadata FROM log_annotations WHERE account = ?1 AND id >= ?2 AND id <= ?3;
