-- One page of an account's logs, newest or oldest first, with their annotations (`Catalog.listLogs`; rows read by
-- `LogRowReader`). A template over the listing's filter shape: a line ending in `-- when a, !b` is kept only when
-- filter `a` is present and `b` is not (`Catalog.ListShape`), without its condition. Every value is bound, in the
-- order of the lines kept; only the shape chooses the text.
--
-- With a model, gateway or provider filter the matching index is named (first present of model, gateway, provider:
-- the most selective as a rule). Left to itself, SQLite prefers walking the account's whole primary-key range and
-- filtering, since that range is already in id order; the index instead costs one lookup per row returned, however
-- rare the filtered value is.
--
-- event_id: the logs whose event_id is the value (logs_by_event holds only those), and the log whose own id it is
-- when that log has no event_id (the first attempt of an event the gateway named; the id is bound as NULL when the
-- value is not a log id).
-- metadata: the filter is a JSON object of key → text; a log matches when each key is in its metadata (the
-- annotation's when it has one, else the request's) with that text (booleans as true/false, numbers as written).
-- include log_row_columns
FROM logs AS l INDEXED BY logs_by_model -- when model
FROM logs AS l INDEXED BY logs_by_gateway -- when gateway, !model
FROM logs AS l INDEXED BY logs_by_provider -- when provider, !model, !gateway
FROM logs AS l -- when !model, !gateway, !provider
LEFT JOIN log_annotations AS a ON a.account = l.account AND a.id = l.id
WHERE l.account = ?
  AND l.gateway = (SELECT n.id FROM log_names AS n WHERE n.name = ?) -- when gateway
  AND l.provider = (SELECT n.id FROM log_names AS n WHERE n.name = ?) -- when provider
  AND l.model = (SELECT n.id FROM log_names AS n WHERE n.name = ?) -- when model
  AND l.status_code = ? -- when status_code
  AND l.success = ? -- when success
  AND l.stream = ? -- when stream
  AND l.cached = ? -- when cached
  AND a.feedback = ? -- when feedback
  AND l.id IN (SELECT e.id FROM logs AS e WHERE e.account = ? AND e.event_id = ? UNION ALL SELECT e.id FROM logs AS e WHERE e.account = ? AND e.id = ? AND e.event_id IS NULL) -- when event_id
  AND (SELECT count(*) FROM json_each(coalesce(a.metadata, l.metadata)) AS m JOIN json_each(?) AS f ON f.key = m.key AND f.value = CASE m.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE CAST(m.atom AS TEXT) END) = ? -- when metadata
  AND l.id >= ? -- when from
  AND l.id < ? -- when to
  AND l.id > ? -- when cursor, ascending
  AND l.id < ? -- when cursor, !ascending
ORDER BY l.id ASC LIMIT ? -- when ascending
ORDER BY l.id DESC LIMIT ? -- when !ascending
