-- title: Daily delivery of one DSP campaign
-- question: How many impressions, users, spend and clicks did one DSP campaign get each day?
-- tables: dsp_clicks, dsp_impressions
-- description: Set campaign_filter to the campaign's exact name (`--param campaign_filter=...`); the default names a campaign of the sandbox.
-- @param campaign_filter STRING "Acme Spring Sale DSP"
WITH daily_impressions AS (
  SELECT
    impression_date_utc AS day,
    SUM(impressions) AS impressions,
    COUNT(DISTINCT user_id) AS reach,
    SUM(total_cost) / 100000.0 AS spend_usd
  FROM dsp_impressions
  WHERE campaign = CUSTOM_PARAMETER('campaign_filter')
  GROUP BY 1
),
daily_clicks AS (
  SELECT click_date_utc AS day, SUM(clicks) AS clicks
  FROM dsp_clicks
  WHERE campaign = CUSTOM_PARAMETER('campaign_filter')
  GROUP BY 1
)
SELECT
  i.day,
  SUM(i.impressions) AS impressions,
  SUM(i.reach) AS reach,
  SUM(i.spend_usd) AS spend_usd,
  SUM(c.clicks) AS clicks
FROM daily_impressions i
LEFT JOIN daily_clicks c ON i.day = c.day
GROUP BY 1
