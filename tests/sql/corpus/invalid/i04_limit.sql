-- expect: 5:1 error: LIMIT is not supported
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY campaign
LIMIT 10
