-- 0009_price_structures: the price structures of today's price lists, and where each row was read.
--
-- New columns of `prices` (rates in picodollars per token, as in 0002; NULL = not billed apart or none):
--   cache_write, cache_write_above   prompt-cache writes reported without a TTL (OpenAI `cache_write_tokens`), part
--                                    of the prompt; Anthropic's 5-minute and 1-hour writes keep their own columns
--   batch_cached_input               cache reads in a Batch API request
--   batch_input_above, batch_output_above, batch_cached_input_above   the Batch rates above prompt_threshold
--   request_fee                      a fee per request, picodollars (e.g. a search fee); recorded, and priced only
--                                    when the request's record reports the fee-bearing event
--   retired                          Unix ms from which the provider no longer serves the model; NULL = served.
--                                    Rows of a retired model stay, so its old requests stay priced
--   retrieved                        YYYY-MM-DD on which the source was read ('' for rows entered without one)
ALTER TABLE prices ADD COLUMN cache_write INTEGER;
ALTER TABLE prices ADD COLUMN cache_write_above INTEGER;
ALTER TABLE prices ADD COLUMN batch_cached_input INTEGER;
ALTER TABLE prices ADD COLUMN batch_input_above INTEGER;
ALTER TABLE prices ADD COLUMN batch_output_above INTEGER;
ALTER TABLE prices ADD COLUMN batch_cached_input_above INTEGER;
ALTER TABLE prices ADD COLUMN request_fee INTEGER;
ALTER TABLE prices ADD COLUMN retired INTEGER;
ALTER TABLE prices ADD COLUMN retrieved TEXT NOT NULL DEFAULT '';
