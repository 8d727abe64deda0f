-- Records sealed segment ?1 as answering for its logs: id range ?2–?3, ?4 logs, names ?5 (JSON), costs ?6, block
-- rows ?7 (`Catalog.sealSegment`; replaces a row left by an earlier try).
INSERT OR REPLACE INTO sealed_segments (segment, min_id, max_id, logs, names, costs, blocks)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7);
