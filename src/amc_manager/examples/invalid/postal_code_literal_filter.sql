-- expect: Column 'postal_code' has aggregation threshold HIGH and cannot be compared with literal values
-- postal_code is HIGH: comparing it with a literal value is refused.
SELECT campaign, SUM(impressions) AS impressions, COUNT(DISTINCT user_id) AS reach
FROM dsp_impressions
WHERE postal_code = '98101'
GROUP BY campaign
