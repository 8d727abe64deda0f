-- Adds a gateway, provider or model name to the dictionary of the log index; does nothing when it is there already.
INSERT OR IGNORE INTO log_names (name) VALUES (?1)
