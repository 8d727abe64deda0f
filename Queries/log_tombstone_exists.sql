-- A row when log ?3 of account ?2 in segment ?1 is deleted (`Catalog.sealedEntry`).
SELECT 1 FROM log_tombstones WHERE segment = ?1 AND account = ?2 AND id = ?3;
