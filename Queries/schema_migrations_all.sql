-- The names of the applied migrations, in name order.
SELECT name FROM schema_migrations ORDER BY name
