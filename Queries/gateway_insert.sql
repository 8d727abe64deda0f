-- Creates a gateway; does nothing when the account already has one with this id (the caller reports it).
INSERT INTO gateways (account, id, collect_logs, stream_usage, created_at, authentication)
VALUES (?1, ?2, ?3, ?4, ?5, ?6)
ON CONFLICT (account, id) DO NOTHING
