-- expect: 2:8 error: column 'user_id' has aggregation threshold VERY_HIGH and cannot be in the output
SELECT user_id, SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY user_id
