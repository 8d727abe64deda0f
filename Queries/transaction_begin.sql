-- Opens a write transaction, taking the write lock up front so it cannot fail half-way for a lock another
-- writer holds.
BEGIN IMMEDIATE
