-- One page of an account's logs, newest or oldest first (`Catalog.listLogs`; column order read by
-- `Catalog.entry(from:)`). A template over the listing's filter shape: a line ending in `-- when a, !b` is kept
-- only when filter `a` is present and `b` is not (`Catalog.ListShape`), without its condition. Every value is
-- bound, in the order of the lines kept; only the shape chooses the text.
--
-- With a model, gateway or provider filter the matching index is named (first present of model, gateway, provider:
-- the most selective as a rule). Left to itself, SQLite prefers walking the account's whole primary-key range and
-- filtering, since that range is already in id order; the index instead costs one lookup per row returned, however
-- rare the filtered value is.
SELECT account, id, gateway, provider, model, created_at, method, path, status_code, success, stream, duration_us,
       ttft_us, tokens_in, cached_tokens_in, cache_write_tokens, cache_write_1h_tokens, tokens_out, reasoning_tokens,
       service_tier, request_size, response_size, error, metadata, payload_stored, segment, segment_offset,
       record_length, cost, custom_cost
FROM logs INDEXED BY logs_by_model -- when model
FROM logs INDEXED BY logs_by_gateway -- when gateway, !model
FROM logs INDEXED BY logs_by_provider -- when provider, !model, !gateway
FROM logs -- when !model, !gateway, !provider
WHERE account = ?
  AND gateway = ? -- when gateway
  AND provider = ? -- when provider
  AND model = ? -- when model
  AND status_code = ? -- when status_code
  AND success = ? -- when success
  AND stream = ? -- when stream
  AND id >= ? -- when from
  AND id < ? -- when to
  AND id > ? -- when cursor, ascending
  AND id < ? -- when cursor, !ascending
ORDER BY id ASC LIMIT ? -- when ascending
ORDER BY id DESC LIMIT ? -- when !ascending
