-- @param since TIMESTAMP "2024-03-01T00:00:00"
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE impression_dt >= CUSTOM_PARAMETER('since')
GROUP BY campaign
