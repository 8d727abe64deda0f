-- Moves log ?2 of account ?1, in segment ?3, to its offset ?4 and frame length ?5 in the rewritten segment.
UPDATE logs SET segment_offset = ?4, record_length = ?5 WHERE account = ?1 AND id = ?2 AND segment = ?3
