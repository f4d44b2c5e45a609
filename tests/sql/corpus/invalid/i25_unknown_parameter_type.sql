-- @param min_clicks NUMBER 10
-- expect: 1:22 error: unknown type 'NUMBER'
SELECT campaign, SUM(clicks) AS clicks
FROM dsp_clicks
GROUP BY campaign
HAVING SUM(clicks) > CUSTOM_PARAMETER('min_clicks')
