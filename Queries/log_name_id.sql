-- The id of a gateway, provider or model name in the dictionary of the log index.
SELECT id FROM log_names WHERE name = ?1
