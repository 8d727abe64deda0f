-- Segment ?1 is dropped: its records are all usage records, kept in its usage archive.
DELETE FROM segments WHERE seq = ?1
