-- expect: INTERSECT is not supported
-- INTERSECT is not supported; only UNION [ALL] combines queries.
SELECT campaign, COUNT(DISTINCT user_id) AS users FROM dsp_impressions GROUP BY campaign
INTERSECT
SELECT campaign, COUNT(DISTINCT user_id) AS users FROM dsp_clicks GROUP BY campaign
