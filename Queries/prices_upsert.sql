-- Adds a price row or replaces the row with the same key. ?21 is the origin ('shipped' or 'api'): a shipped row
-- never replaces a row entered through the API, and is only rewritten when one of its figures changed.
INSERT INTO prices (account, provider, model, service_tier, effective_from, input, output, cached_input,
                    cache_write_5m, cache_write_1h, reasoning, batch_input, batch_output, prompt_threshold,
                    input_above, output_above, cached_input_above, cache_write_5m_above, cache_write_1h_above,
                    source, origin, updated_at, cache_write, cache_write_above, batch_cached_input,
                    batch_input_above, batch_output_above, batch_cached_input_above, request_fee, retired, retrieved)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22,
        ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30, ?31)
ON CONFLICT (account, provider, model, service_tier, effective_from) DO UPDATE SET
    input = excluded.input, output = excluded.output, cached_input = excluded.cached_input,
    cache_write_5m = excluded.cache_write_5m, cache_write_1h = excluded.cache_write_1h,
    reasoning = excluded.reasoning, batch_input = excluded.batch_input, batch_output = excluded.batch_output,
    prompt_threshold = excluded.prompt_threshold, input_above = excluded.input_above,
    output_above = excluded.output_above, cached_input_above = excluded.cached_input_above,
    cache_write_5m_above = excluded.cache_write_5m_above, cache_write_1h_above = excluded.cache_write_1h_above,
    source = excluded.source, origin = excluded.origin, updated_at = excluded.updated_at,
    cache_write = excluded.cache_write, cache_write_above = excluded.cache_write_above,
    batch_cached_input = excluded.batch_cached_input, batch_input_above = excluded.batch_input_above,
    batch_output_above = excluded.batch_output_above, batch_cached_input_above = excluded.batch_cached_input_above,
    request_fee = excluded.request_fee, retired = excluded.retired, retrieved = excluded.retrieved
WHERE excluded.origin = 'api'
   OR (prices.origin = 'shipped'
       AND (prices.input, prices.output, prices.cached_input, prices.cache_write_5m, prices.cache_write_1h,
            prices.reasoning, prices.batch_input, prices.batch_output, prices.prompt_threshold, prices.input_above,
            prices.output_above, prices.cached_input_above, prices.cache_write_5m_above,
            prices.cache_write_1h_above, prices.source, prices.cache_write, prices.cache_write_above,
            prices.batch_cached_input, prices.batch_input_above, prices.batch_output_above,
            prices.batch_cached_input_above, prices.request_fee, prices.retired, prices.retrieved)
           IS NOT (excluded.input, excluded.output, excluded.cached_input, excluded.cache_write_5m,
                   excluded.cache_write_1h, excluded.reasoning, excluded.batch_input, excluded.batch_output,
                   excluded.prompt_threshold, excluded.input_above, excluded.output_above,
                   excluded.cached_input_above, excluded.cache_write_5m_above, excluded.cache_write_1h_above,
                   excluded.source, excluded.cache_write, excluded.cache_write_above, excluded.batch_cached_input,
                   excluded.batch_input_above, excluded.batch_output_above, excluded.batch_cached_input_above,
                   excluded.request_fee, excluded.retired, excluded.retrieved));
