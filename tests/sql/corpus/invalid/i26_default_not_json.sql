-- @param brand STRING Acme Corp
-- expect: 1:24 error: default of 'brand' does not fit STRING: invalid JSON
SELECT campaign, SUM(clicks) AS clicks
FROM dsp_clicks
WHERE advertiser = CUSTOM_PARAMETER('brand')
GROUP BY campaign
