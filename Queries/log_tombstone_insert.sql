-- Remembers that log ?3 of account ?2, whose record is in segment ?1, was deleted.
INSERT OR IGNORE INTO log_tombstones (segment, account, id) VALUES (?1, ?2, ?3)
