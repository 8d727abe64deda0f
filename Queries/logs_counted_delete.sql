-- Segment ?1 is sealed: its logs are all counted.
DELETE FROM logs_counted WHERE segment = ?1;
