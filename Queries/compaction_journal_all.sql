-- Compactions committed whose files may not be in place yet, by seq: (seq, dropped). dropped = 1: the segment's
-- usage archive replaces it and its file is to be deleted; 0: its rewritten file is to be renamed over it.
SELECT seq, dropped FROM segment_compactions ORDER BY seq
