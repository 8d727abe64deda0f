-- Ends a usage query's read transaction.
COMMIT
