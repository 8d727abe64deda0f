-- Every sealed segment that answers for its logs, with its summary and block rows (`Catalog.loadSealedLogs`, at
-- open). Not its costs: those are read when needed (`sealed_segment_costs`).
SELECT segment, min_id, max_id, logs, names, blocks FROM sealed_segments ORDER BY segment;
