-- Forgets sealed segment ?1, dropped by compaction (`Catalog.commitDrop`).
DELETE FROM sealed_segments WHERE segment = ?1;
