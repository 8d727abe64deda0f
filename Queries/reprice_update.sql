-- Sets one log's recomputed cost (picodollars; NULL = unpriced).
UPDATE logs SET cost = ?3 WHERE account = ?1 AND id = ?2;
