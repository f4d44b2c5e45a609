-- expect: 3:1 error: INTERSECT is not supported
SELECT campaign, COUNT(DISTINCT user_id) AS users FROM dsp_impressions GROUP BY campaign
INTERSECT
SELECT campaign, COUNT(DISTINCT user_id) AS users FROM dsp_clicks GROUP BY campaign
