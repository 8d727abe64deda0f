-- The dictionary of gateway, provider and model names of the log index, for `tollgate export` (names are only ever
-- added, so a copy stays right for every id it holds).
SELECT id, name FROM log_names;
