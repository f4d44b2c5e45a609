-- title: Weekly frequency and purchase rate by campaign
-- question: For each DSP campaign, how does the share of reached users who purchase change with how many impressions they saw in a week?
-- tables: dsp_impressions, amazon_attributed_events_by_traffic_time
-- description: Each row is a campaign and a weekly frequency; users count once per week they
--   were reached (user_weeks). A user-week converts when the campaign's impressions of that
--   week were credited with a purchase. Frequencies of frequency_cap and more share one row.
--   Look for the frequency after which the purchase rate stops rising.
-- @param frequency_cap LONG 10
WITH weekly AS (
  SELECT
    campaign,
    user_id,
    DATE_TRUNC('WEEK', impression_dt_utc) AS week,
    SUM(impressions) AS frequency
  FROM dsp_impressions
  GROUP BY 1, 2, 3
),
credited AS (
  SELECT
    campaign,
    user_id,
    DATE_TRUNC('WEEK', traffic_event_dt_utc) AS week,
    SUM(purchases) AS purchases,
    SUM(product_sales) AS product_sales
  FROM amazon_attributed_events_by_traffic_time
  WHERE ad_product_type IS NULL AND purchases > 0
  GROUP BY 1, 2, 3
)
SELECT
  w.campaign,
  LEAST(w.frequency, CUSTOM_PARAMETER('frequency_cap')) AS weekly_frequency,
  COUNT(w.user_id) AS user_weeks,
  COUNT(DISTINCT w.user_id) AS users,
  COUNT(c.user_id) AS converting_user_weeks,
  COUNT(c.user_id) / COUNT(w.user_id) AS purchase_rate,
  SUM(c.purchases) AS purchases,
  SUM(c.product_sales) AS product_sales
FROM weekly w
LEFT JOIN credited c
  ON w.campaign = c.campaign AND w.user_id = c.user_id AND w.week = c.week
GROUP BY 1, 2
