-- expect: 4:27 error: column 'postal_code' has aggregation threshold HIGH and cannot be compared with literal values
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE impressions > 0 AND postal_code = '98101'
GROUP BY campaign
