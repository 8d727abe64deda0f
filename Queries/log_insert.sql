-- Adds one log to the index; does nothing when (account, id) is indexed already (recovery may insert again).
-- Parameters named as the columns, which `Catalog.bind(_:names:to:)` binds by name: gateway, provider and model are
-- ids of `log_names` (`log_name_insert`, `log_name_id`).
INSERT OR IGNORE INTO logs (
       account, id, gateway, provider, model, created_at, method, path, status_code, success, stream, duration_us,
       ttft_us, tokens_in, cached_tokens_in, cache_write_tokens, cache_write_1h_tokens, tokens_out, reasoning_tokens,
       service_tier, request_size, response_size, error, metadata, payload_stored, segment, segment_offset,
       record_length, cost, custom_cost, event_id, attempt, step, cached, saved)
VALUES (:account, :id, :gateway, :provider, :model, :created_at, :method, :path, :status_code, :success, :stream,
        :duration_us, :ttft_us, :tokens_in, :cached_tokens_in, :cache_write_tokens, :cache_write_1h_tokens,
        :tokens_out, :reasoning_tokens, :service_tier, :request_size, :response_size, :error, :metadata,
        :payload_stored, :segment, :segment_offset, :record_length, :cost, :custom_cost, :event_id, :attempt,
        :step, :cached, :saved)
