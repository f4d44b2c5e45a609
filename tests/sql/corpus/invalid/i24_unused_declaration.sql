-- @param min_clicks LONG 10
-- expect: 1:11 error: parameter 'min_clicks' is declared but never used
SELECT campaign, SUM(clicks) AS clicks
FROM dsp_clicks
GROUP BY campaign
