-- Records a segment's current state, inserting it or replacing what the catalog had.
INSERT INTO segments (seq, state, first_created_at, last_created_at, record_count, bytes, sealed_at)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
ON CONFLICT (seq) DO UPDATE SET
    state = excluded.state, first_created_at = excluded.first_created_at,
    last_created_at = excluded.last_created_at, record_count = excluded.record_count,
    bytes = excluded.bytes, sealed_at = excluded.sealed_at
