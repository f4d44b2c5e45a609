-- expect: 4:7 error: column 'user_id' has aggregation threshold VERY_HIGH and cannot be compared with literal values
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE user_id = 'a1b2c3d4'
GROUP BY campaign
