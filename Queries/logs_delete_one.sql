-- Deletes log ?2 of account ?1 from the index.
DELETE FROM logs WHERE account = ?1 AND id = ?2
