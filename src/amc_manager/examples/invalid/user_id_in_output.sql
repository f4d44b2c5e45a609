-- expect: Column 'user_id' has aggregation threshold VERY_HIGH and cannot be selected in the output
-- user_id is VERY_HIGH: it may be counted but never selected.
SELECT user_id, SUM(impressions) AS impressions
FROM dsp_impressions
GROUP BY user_id
