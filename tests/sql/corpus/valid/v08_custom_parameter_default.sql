-- @param min_clicks LONG 1
-- CUSTOM_PARAMETER with its declared default.
SELECT campaign, SUM(clicks) AS clicks
FROM dsp_clicks
GROUP BY campaign
HAVING SUM(clicks) >= CUSTOM_PARAMETER('min_clicks')
