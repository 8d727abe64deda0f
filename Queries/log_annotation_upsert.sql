-- Sets one log's annotation (feedback, score, metadata JSON; NULL = none) as a whole.
INSERT INTO log_annotations (account, id, feedback, score, metadata, updated_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (account, id) DO UPDATE
SET feedback = excluded.feedback, score = excluded.score, metadata = excluded.metadata,
    updated_at = excluded.updated_at
