-- Records that segment ?1's logs up to record offset ?2 are counted in `log_counts`.
INSERT INTO logs_counted (segment, through) VALUES (?1, ?2)
ON CONFLICT (segment) DO UPDATE SET through = max(through, excluded.through);
