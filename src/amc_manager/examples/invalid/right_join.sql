-- expect: RIGHT JOIN is not supported
-- RIGHT JOIN is not supported: swap the tables and use LEFT JOIN.
WITH dsp AS (
  SELECT campaign, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY campaign
),
clicks AS (
  SELECT campaign, SUM(clicks) AS clicks FROM dsp_clicks GROUP BY campaign
)
SELECT c.campaign, SUM(d.impressions) AS impressions, SUM(c.clicks) AS clicks
FROM dsp d
RIGHT JOIN clicks c ON d.campaign = c.campaign
GROUP BY c.campaign
