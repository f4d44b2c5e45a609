-- expect: SELECT * is not supported
-- SELECT * is refused: AMC never exports every column of a table.
SELECT * FROM dsp_impressions
