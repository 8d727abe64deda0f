-- A new series.
INSERT INTO rollup_series (id, account, gateway, provider, model, success, cached, priced, refusal)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
