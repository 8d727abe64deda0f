-- Every sealed segment that answers for its logs, with its summary and costs (`Catalog.loadSealedLogs`, at open).
SELECT segment, min_id, max_id, logs, names, costs FROM sealed_segments ORDER BY segment;
