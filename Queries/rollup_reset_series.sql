-- Deletes the series dictionary (rebuild).
DELETE FROM rollup_series
