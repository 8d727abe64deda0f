-- Forgets the tombstone of log ?3 of account ?2 in segment ?1 (its record was rewritten as a usage record).
DELETE FROM log_tombstones WHERE segment = ?1 AND account = ?2 AND id = ?3
