-- title: DSP line-item cost efficiency
-- question: Which DSP line items buy impressions, clicks and reach most cheaply (CPM, CTR, cost per click, cost per reached user)?
-- tables: dsp_clicks, dsp_impressions
WITH delivery AS (
  SELECT
    campaign,
    line_item,
    line_item_id,
    SUM(impressions) AS impressions,
    COUNT(DISTINCT user_id) AS reach,
    SUM(total_cost) / 100000.0 AS spend_usd
  FROM dsp_impressions
  GROUP BY 1, 2, 3
),
engagement AS (
  SELECT line_item_id, SUM(clicks) AS clicks
  FROM dsp_clicks
  GROUP BY 1
)
SELECT
  d.campaign,
  d.line_item,
  SUM(d.impressions) AS impressions,
  SUM(d.reach) AS reach,
  SUM(e.clicks) AS clicks,
  SUM(d.spend_usd) AS spend_usd,
  SUM(d.spend_usd) * 1000 / SUM(d.impressions) AS cpm_usd,
  SUM(e.clicks) / SUM(d.impressions) AS click_through_rate,
  SUM(d.spend_usd) / SUM(e.clicks) AS cost_per_click_usd,
  SUM(d.spend_usd) / SUM(d.reach) AS cost_per_reached_user_usd
FROM delivery d
LEFT JOIN engagement e ON d.line_item_id = e.line_item_id
GROUP BY 1, 2
