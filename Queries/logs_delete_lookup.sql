-- Where log ?2 of account ?1 is, before deleting it: its segment and created_at.
SELECT id, segment, created_at FROM logs WHERE account = ?1 AND id = ?2
