-- Campaigns that also have clicks, through IN (SELECT ...).
SELECT campaign, SUM(impressions) AS impressions
FROM dsp_impressions
WHERE campaign IN (SELECT campaign FROM dsp_clicks WHERE clicks > 0)
GROUP BY campaign
