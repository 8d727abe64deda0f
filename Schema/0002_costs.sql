-- 0002_costs: every log's cost, and the price table it is computed from.

-- The cost of each indexed log, derived when it is indexed (and again when a period is repriced) from its usage,
-- its custom cost and the price row in force at its created_at. Not stored in the segments: a record says what
-- happened, the index says what it cost under the prices known now.
--   cost         picodollars (10^-12 USD); NULL = unpriced (unknown model, or tokens not reported)
--   custom_cost  1 = priced by the request's own cf-aig-custom-cost header, not the price table
ALTER TABLE logs ADD COLUMN cost INTEGER;
ALTER TABLE logs ADD COLUMN custom_cost INTEGER NOT NULL DEFAULT 0;

-- prices: token prices per provider and model, versioned by effective_from. A request is priced by the row of its
-- account (a negotiated override) if one is in force at its created_at, else by the public row in force then.
-- Rows are never replaced by later prices: a price change is a new row with a later effective_from; a correction
-- of a row is an update of that row, followed by a reprice of the period it covers.
--   account          '' = the public price list; otherwise the account whose negotiated price this is
--   provider, model  as in a request's path and model (model without a date suffix matches its snapshots)
--   service_tier     'default', or a tier the provider reports and prices apart ('flex', 'priority')
--   effective_from   Unix ms from which the row applies
--   input, output    picodollars per token (USD per 1M tokens × 10^6)
--   cached_input, cache_write_5m, cache_write_1h, reasoning   picodollars per token; NULL = not billed apart
--   batch_input, batch_output   batch API prices, picodollars per token; NULL = none
--   prompt_threshold  prompt length (input + cache reads + writes) above which the *_above rates apply to the
--                     whole request; NULL = one band
--   input_above, output_above, cached_input_above, cache_write_5m_above, cache_write_1h_above   that band's rates
--   source           where the figures come from (URL and date, or who entered them)
--   origin           'shipped' (from the price list in the binary; refreshed when the binary's list changes) or
--                    'api' (entered through the API; never overwritten by the shipped list)
--   updated_at       Unix ms of the last change
CREATE TABLE prices (
    account TEXT NOT NULL DEFAULT '',
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    service_tier TEXT NOT NULL DEFAULT 'default',
    effective_from INTEGER NOT NULL,
    input INTEGER NOT NULL,
    output INTEGER NOT NULL,
    cached_input INTEGER,
    cache_write_5m INTEGER,
    cache_write_1h INTEGER,
    reasoning INTEGER,
    batch_input INTEGER,
    batch_output INTEGER,
    prompt_threshold INTEGER,
    input_above INTEGER,
    output_above INTEGER,
    cached_input_above INTEGER,
    cache_write_5m_above INTEGER,
    cache_write_1h_above INTEGER,
    source TEXT NOT NULL DEFAULT '',
    origin TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (account, provider, model, service_tier, effective_from)
) STRICT, WITHOUT ROWID;
