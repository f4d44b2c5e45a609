-- expect: Column 'user_id' has aggregation threshold VERY_HIGH and cannot be compared with literal values
-- user_id is VERY_HIGH: looking up one user by a literal value is refused.
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE user_id = 'a1b2c3d4'
GROUP BY campaign
