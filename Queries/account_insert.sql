-- Creates an account; does nothing when the id is taken (the caller reports it).
INSERT INTO accounts (id, tier, created_at) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING
