-- expect: 2:24 error: table 'dsp_clicks' has no column 'impressions'
SELECT c.campaign, SUM(c.impressions) AS impressions
FROM dsp_clicks c
GROUP BY c.campaign
