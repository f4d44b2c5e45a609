-- title: DSP creative performance
-- question: Which DSP creatives, by type and size, reach the most users and get clicked most often, at what cost?
-- tables: dsp_impressions, dsp_clicks
-- description: One row per creative. Compare creatives of the same type and size: CTR and CPM
--   differ a lot between display, video and audio placements.
WITH shown AS (
  SELECT
    creative_type,
    creative_size,
    creative,
    creative_id,
    SUM(impressions) AS impressions,
    COUNT(DISTINCT user_id) AS reach,
    SUM(total_cost) / 100000.0 AS spend_usd
  FROM dsp_impressions
  GROUP BY 1, 2, 3, 4
),
clicked AS (
  SELECT creative_id, SUM(clicks) AS clicks, COUNT(DISTINCT user_id) AS clicking_users
  FROM dsp_clicks
  GROUP BY 1
)
SELECT
  s.creative_type,
  s.creative_size,
  s.creative,
  SUM(s.impressions) AS impressions,
  SUM(s.reach) AS reach,
  SUM(s.spend_usd) AS spend_usd,
  SUM(s.spend_usd) * 1000 / SUM(s.impressions) AS cpm_usd,
  SUM(c.clicks) AS clicks,
  SUM(c.clicking_users) AS clicking_users,
  SUM(c.clicks) / SUM(s.impressions) AS click_through_rate
FROM shown s
LEFT JOIN clicked c ON s.creative_id = c.creative_id
GROUP BY 1, 2, 3
