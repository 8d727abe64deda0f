-- Compactions committed whose rename may not have happened, by seq.
SELECT seq FROM segment_compactions ORDER BY seq
