-- expect: 5:1 error: RIGHT JOIN is not supported
WITH c AS (SELECT campaign, SUM(clicks) AS clicks FROM dsp_clicks GROUP BY campaign)
SELECT i.campaign, SUM(i.impressions) AS impressions, SUM(c.clicks) AS clicks
FROM dsp_impressions i
RIGHT JOIN c ON i.campaign = c.campaign
GROUP BY i.campaign
