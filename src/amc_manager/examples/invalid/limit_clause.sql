-- expect: LIMIT is not supported
-- LIMIT is not part of AMC SQL: rank rows with a window function instead.
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY campaign
LIMIT 10
