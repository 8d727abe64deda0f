-- Deletes one gateway's settings (its logs are deleted apart, in batches); one row or none.
DELETE FROM gateways WHERE account = ?1 AND id = ?2
