-- How many annotations belong to no indexed log (an invariant check: deleting a log deletes its annotation).
SELECT count(*) FROM log_annotations AS a
WHERE NOT EXISTS (SELECT 1 FROM logs AS l WHERE l.account = a.account AND l.id = a.id)
