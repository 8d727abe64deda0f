-- Records a checkpoint's position.
INSERT INTO rollup_watermark (id, segment, segment_offset, checkpointed_at) VALUES (1, ?1, ?2, ?3)
ON CONFLICT (id) DO UPDATE SET segment = excluded.segment, segment_offset = excluded.segment_offset,
    checkpointed_at = excluded.checkpointed_at
