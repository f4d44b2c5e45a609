-- @param brand STRING "Acme"
-- expect: 5:20 error: CUSTOM_PARAMETER takes exactly one argument
SELECT campaign, SUM(clicks) AS clicks
FROM dsp_clicks
WHERE advertiser = CUSTOM_PARAMETER(brand) OR advertiser = CUSTOM_PARAMETER('brand')
GROUP BY campaign
