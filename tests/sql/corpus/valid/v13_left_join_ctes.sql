-- Impressions and clicks per campaign, joined.
WITH shown AS (
  SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign
),
clicked AS (
  SELECT campaign, SUM(clicks) AS clicks FROM dsp_clicks GROUP BY campaign
)
SELECT s.campaign, s.impressions, COALESCE(c.clicks, 0) AS clicks
FROM shown s
LEFT JOIN clicked c ON s.campaign = c.campaign
