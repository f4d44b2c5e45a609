-- A value with a newline and a tab stays one literal.
-- values: {"label": "first line\nsecond\tline -- not a comment"}
SELECT {{label}} AS label, SUM(impressions) AS impressions
FROM dsp_impressions
