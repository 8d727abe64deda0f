-- Marks a segment sealed with its final figures.
UPDATE segments SET state = 'sealed', first_created_at = ?2, last_created_at = ?3, record_count = ?4,
    bytes = ?5, sealed_at = ?6
WHERE seq = ?1
