-- 0005_log_counts: how many logs each account stored per calendar month (UTC), kept exact as logs are indexed.
--
-- Updated in the same transaction as the log index rows it counts, and only for rows actually inserted (recovery
-- re-inserts with INSERT OR IGNORE), so a crash never double-counts. Monthly reports and log quotas read it instead
-- of counting the index.
--   account      the account
--   month_start  Unix ms of the first instant of the month (UTC)
--   stored       logs indexed with created_at in that month
CREATE TABLE log_counts (
    account TEXT NOT NULL,
    month_start INTEGER NOT NULL,
    stored INTEGER NOT NULL,
    PRIMARY KEY (account, month_start)
) STRICT, WITHOUT ROWID;

INSERT INTO log_counts (account, month_start, stored)
SELECT account,
       CAST(strftime('%s', datetime(created_at / 1000, 'unixepoch', 'start of month')) AS INTEGER) * 1000,
       count(*)
FROM logs
GROUP BY 1, 2;
