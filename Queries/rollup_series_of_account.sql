-- The series of one account, for naming a query's groups.
SELECT id, gateway, provider, model, success, cached, priced, refusal FROM rollup_series WHERE account = ?1 ORDER BY id
