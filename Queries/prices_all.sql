-- Every price row, public (account '') and per-account, in key order.
SELECT account, provider, model, service_tier, effective_from, input, output, cached_input, cache_write_5m,
       cache_write_1h, reasoning, batch_input, batch_output, prompt_threshold, input_above, output_above,
       cached_input_above, cache_write_5m_above, cache_write_1h_above, source, origin, updated_at,
       cache_write, cache_write_above, batch_cached_input, batch_input_above, batch_output_above,
       batch_cached_input_above, request_fee, retired, retrieved
FROM prices
ORDER BY account, provider, model, service_tier, effective_from;
