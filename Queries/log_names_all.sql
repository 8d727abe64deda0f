-- The dictionary of gateway, provider and model names of the log index, which `LogRowReader` resolves a log row's
-- ids from (names are only ever added, so a copy stays right for every id it holds).
SELECT id, name FROM log_names;
