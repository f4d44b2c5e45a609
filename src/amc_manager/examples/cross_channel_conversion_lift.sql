-- title: Cross-channel conversion lift
-- question: Do users reached by both DSP and sponsored ads purchase at a higher rate than users reached by only one of them?
-- tables: conversions, dsp_impressions, sponsored_ads_traffic
-- description: Lift is each group's purchase rate over the DSP-only group's, minus one. Exposure is not random, so read it as a correlation.
WITH dsp AS (
  SELECT user_id, SUM(impressions) AS impressions FROM dsp_impressions GROUP BY user_id
),
sponsored AS (
  SELECT user_id, SUM(impressions) AS impressions FROM sponsored_ads_traffic GROUP BY user_id
),
exposed AS (
  SELECT
    COALESCE(d.user_id, s.user_id) AS user_id,
    CASE
      WHEN COALESCE(d.impressions, 0) > 0 AND COALESCE(s.impressions, 0) > 0
        THEN 'dsp and sponsored ads'
      WHEN COALESCE(d.impressions, 0) > 0 THEN 'dsp only'
      ELSE 'sponsored ads only'
    END AS exposure_group
  FROM dsp d
  FULL OUTER JOIN sponsored s ON d.user_id = s.user_id
),
buyers AS (
  SELECT user_id, SUM(conversions) AS purchases, SUM(total_product_sales) AS sales
  FROM conversions
  WHERE event_category = 'purchase'
  GROUP BY user_id
),
rates AS (
  SELECT
    x.exposure_group,
    COUNT(DISTINCT x.user_id) AS users,
    COUNT(DISTINCT b.user_id) AS purchasers,
    SUM(b.purchases) AS purchases,
    SUM(b.sales) AS sales,
    COUNT(DISTINCT b.user_id) / COUNT(DISTINCT x.user_id) AS purchase_rate
  FROM exposed x
  LEFT JOIN buyers b ON x.user_id = b.user_id
  GROUP BY 1
)
SELECT
  exposure_group,
  SUM(users) AS users,
  SUM(purchasers) AS purchasers,
  SUM(purchases) AS purchases,
  SUM(sales) AS sales,
  SUM(purchase_rate) AS purchase_rate,
  SUM(purchase_rate)
    / MAX(SUM(CASE WHEN exposure_group = 'dsp only' THEN purchase_rate END)) OVER () - 1
    AS lift_vs_dsp_only
FROM rates
GROUP BY 1
