-- Every series of the dictionary, for the engine's id map.
SELECT id, account, gateway, provider, model, success, cached, priced, refusal FROM rollup_series ORDER BY id
