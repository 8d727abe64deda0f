-- How many of an account's logs in [?2, ?3) (id bounds) repricing will visit.
SELECT count(*) FROM logs WHERE account = ?1 AND id >= ?2 AND id < ?3 AND custom_cost = 0 AND cached = 0;
