-- The block rows of sealed segment ?1 (NULL while compaction replaces its file, then those of the rewritten file).
UPDATE sealed_segments SET blocks = ?2 WHERE segment = ?1;
