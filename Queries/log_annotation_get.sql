-- The annotation of log ?2 of account ?1 (`Catalog.sealedEntry`).
SELECT feedback, score, metadata FROM log_annotations WHERE account = ?1 AND id = ?2;
