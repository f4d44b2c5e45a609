-- expect: Column 'impression_count' not found
-- A column that dsp_impressions does not have.
SELECT campaign, SUM(impression_count) AS impressions
FROM dsp_impressions
GROUP BY campaign
