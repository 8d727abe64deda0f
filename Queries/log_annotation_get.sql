-- log_annotation_get (`Catalog+SealedLogs.swift`).
SELECT feedback, score, metadata FROM log_annotations WHERE account = ?1 AND id = ?2;
