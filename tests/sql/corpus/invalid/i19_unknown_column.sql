-- expect: 2:22 error: unknown column 'impression_count'
SELECT campaign, SUM(impression_count) AS impressions
FROM dsp_impressions
GROUP BY campaign
