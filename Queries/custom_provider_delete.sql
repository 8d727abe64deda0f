-- Deletes a custom provider.
DELETE FROM custom_providers WHERE account = ?1 AND slug = ?2
