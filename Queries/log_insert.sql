-- Adds one log to the index; does nothing when (account, id) is indexed already (recovery may insert again).
-- Parameters in column order, as `Catalog.bind(_:names:to:)` binds them: gateway, provider and model are ids of
-- `log_names` (`log_name_insert`, `log_name_id`).
INSERT OR IGNORE INTO logs (
       account, id, gateway, provider, model, created_at, method, path, status_code, success, stream, duration_us,
       ttft_us, tokens_in, cached_tokens_in, cache_write_tokens, cache_write_1h_tokens, tokens_out, reasoning_tokens,
       service_tier, request_size, response_size, error, metadata, payload_stored, segment, segment_offset,
       record_length, cost, custom_cost, event_id, attempt, step, cached, saved)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23,
        ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31, ?32, ?33, ?34, ?35)
