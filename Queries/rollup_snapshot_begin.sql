-- Opens the read transaction a usage query runs in, so every column it reads comes from one snapshot (a
-- checkpoint may add or compact parts meanwhile).
BEGIN DEFERRED
