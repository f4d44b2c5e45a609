-- @param brand STRING
-- expect: 5:20 error: CUSTOM_PARAMETER('brand') has no value and its declaration no default
SELECT campaign, SUM(clicks) AS clicks
FROM dsp_clicks
WHERE advertiser = CUSTOM_PARAMETER('brand')
GROUP BY campaign
