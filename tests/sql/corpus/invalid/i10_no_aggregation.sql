-- A raw event export.
-- expect: 3:1 error: the query must aggregate
SELECT campaign, impression_dt, total_cost
FROM dsp_impressions
WHERE impressions > 0
