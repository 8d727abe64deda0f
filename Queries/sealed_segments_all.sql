-- Every sealed segment that answers for its logs, with its summary, costs and block rows (`Catalog.loadSealedLogs`,
-- at open).
SELECT segment, min_id, max_id, logs, names, costs, blocks FROM sealed_segments ORDER BY segment;
