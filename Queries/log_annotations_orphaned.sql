-- The annotations whose log has no `logs` row (an invariant check: deleting a log deletes its annotation). The
-- caller looks each one up in the sealed segments, whose logs have no row.
SELECT a.account, a.id FROM log_annotations AS a
WHERE NOT EXISTS (SELECT 1 FROM logs AS l WHERE l.account = a.account AND l.id = a.id)
