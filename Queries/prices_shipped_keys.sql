-- The keys of the public rows that came from a shipped price list: opening the price book removes those the
-- binary's list no longer carries (a row corrected by re-dating it, for instance).
SELECT provider, model, service_tier, effective_from
FROM prices
WHERE account = '' AND origin = 'shipped';
