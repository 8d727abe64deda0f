-- 0004_gateway_stream_usage: a gateway setting for usage on OpenAI-style streams.
--
-- gateways:
--   stream_usage  1 = a streaming chat completion that did not ask for usage is sent upstream with
--                 `stream_options.include_usage: true` (for providers that report stream usage only on request),
--                 and the extra usage-only chunk is removed from what the client receives, so the stream's tokens
--                 are logged; 0 = requests and streams pass through unchanged (such a stream's tokens stay unknown)
ALTER TABLE gateways ADD COLUMN stream_usage INTEGER NOT NULL DEFAULT 1;
