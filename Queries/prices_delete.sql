-- Removes one price row by its key; the caller reprices the period it covered.
DELETE FROM prices
WHERE account = ?1 AND provider = ?2 AND model = ?3 AND service_tier = ?4 AND effective_from = ?5;
