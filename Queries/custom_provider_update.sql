-- Changes a custom provider's base URL, API and name (NULL leaves one as it is).
UPDATE custom_providers SET base_url = coalesce(?3, base_url), api = coalesce(?4, api), updated_at = ?5,
    name = coalesce(?6, name)
WHERE account = ?1 AND slug = ?2
