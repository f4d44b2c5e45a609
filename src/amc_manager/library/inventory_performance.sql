-- title: DSP inventory performance by supply source
-- question: Which supply sources and environments (web, app) deliver DSP impressions most cheaply and with the best click-through rate?
-- tables: dsp_impressions, dsp_clicks
-- description: CPM is total cost (fees included) per thousand impressions; CTR divides the
--   clicks of the same supply source and environment by its impressions.
WITH delivery AS (
  SELECT
    supply_source,
    environment_type,
    SUM(impressions) AS impressions,
    COUNT(DISTINCT user_id) AS reach,
    SUM(total_cost) / 100000.0 AS spend_usd
  FROM dsp_impressions
  GROUP BY 1, 2
),
engagement AS (
  SELECT supply_source, environment_type, SUM(clicks) AS clicks
  FROM dsp_clicks
  GROUP BY 1, 2
)
SELECT
  d.supply_source,
  d.environment_type,
  SUM(d.impressions) AS impressions,
  SUM(d.reach) AS reach,
  SUM(d.spend_usd) AS spend_usd,
  SUM(d.spend_usd) * 1000 / SUM(d.impressions) AS cpm_usd,
  SUM(e.clicks) AS clicks,
  SUM(e.clicks) / SUM(d.impressions) AS click_through_rate
FROM delivery d
LEFT JOIN engagement e
  ON d.supply_source = e.supply_source AND d.environment_type = e.environment_type
GROUP BY 1, 2
