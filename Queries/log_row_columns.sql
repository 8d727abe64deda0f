-- Not a statement: the columns of a log's row in the index, in the order `LogRowReader` reads them (its `Column`
-- cases, one per column), shared by every statement that reads log rows (log_get, logs_list, reprice_page,
-- export_logs). Such a statement names it on a line `-- include log_row_columns` (`NamedQueries`), which becomes
-- the lines below, and follows it with its own FROM: the `logs` row as `l` and its annotation as `a`
-- (`LEFT JOIN log_annotations AS a ON a.account = l.account AND a.id = l.id`), and a WHERE on one account.
--
-- The account is not a column: each statement reads one, which it is given, and so is the reader. Gateway,
-- provider and model are `log_names` ids, which the reader resolves from its copy of that table (`log_names_all`)
-- rather than with a lookup per row.
SELECT l.id, l.gateway, l.provider, l.model, l.created_at, l.method, l.path, l.status_code, l.success,
       l.stream, l.duration_us, l.ttft_us, l.tokens_in, l.cached_tokens_in, l.cache_write_tokens,
       l.cache_write_1h_tokens, l.tokens_out, l.reasoning_tokens, l.service_tier, l.request_size, l.response_size,
       l.error, l.metadata, l.payload_stored, l.segment, l.segment_offset, l.record_length, l.cost, l.custom_cost,
       l.event_id, l.attempt, l.step, l.cached, l.saved, a.feedback, a.score, a.metadata AS annotation_metadata
