-- title: Viewable exposure and purchase rate
-- question: Do users whose DSP impressions were mostly viewable buy more often than users whose impressions were seldom viewable?
-- tables: dsp_views, conversions
-- description: Each user is placed by the share of their measurable impressions in the window
--   that were viewable. Purchases of the advertisers' products come from the conversions
--   table, ad-attributed or not; exposure is not random, so read a difference as a signal,
--   not as measured lift.
WITH exposure AS (
  SELECT
    user_id,
    SUM(measurable_impressions) AS measurable_impressions,
    SUM(viewable_impressions) AS viewable_impressions
  FROM dsp_views
  GROUP BY 1
),
buyers AS (
  SELECT user_id, SUM(conversions) AS purchases, SUM(total_product_sales) AS sales
  FROM conversions
  WHERE event_category = 'purchase'
  GROUP BY 1
)
SELECT
  CASE
    WHEN e.measurable_impressions = 0 THEN '0: not measured'
    WHEN e.viewable_impressions < e.measurable_impressions * 0.25 THEN '1: under 25% viewable'
    WHEN e.viewable_impressions < e.measurable_impressions * 0.5 THEN '2: 25-50% viewable'
    WHEN e.viewable_impressions < e.measurable_impressions * 0.75 THEN '3: 50-75% viewable'
    ELSE '4: 75% or more viewable'
  END AS viewable_share,
  COUNT(DISTINCT e.user_id) AS users,
  SUM(e.measurable_impressions) AS measurable_impressions,
  COUNT(DISTINCT b.user_id) AS purchasers,
  COUNT(DISTINCT b.user_id) / COUNT(DISTINCT e.user_id) AS purchase_rate,
  SUM(b.purchases) AS purchases,
  SUM(b.sales) AS sales
FROM exposure e
LEFT JOIN buyers b ON e.user_id = b.user_id
GROUP BY 1
