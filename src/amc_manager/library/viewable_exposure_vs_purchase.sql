-- title: Viewable exposure and purchase rate
-- question: Do users who saw at least one viewable DSP impression buy more often than users whose impressions were never viewable?
-- tables: dsp_views, conversions
-- description: Users are split by their DSP view events in the window; purchases of the
--   advertisers' products come from the conversions table, ad-attributed or not. Exposure is
--   not random, so read the difference as a signal, not as measured lift.
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
    WHEN e.viewable_impressions > 0 THEN 'viewable impression seen'
    WHEN e.measurable_impressions > 0 THEN 'measured, never viewable'
    ELSE 'not measured'
  END AS exposure,
  COUNT(DISTINCT e.user_id) AS users,
  COUNT(DISTINCT b.user_id) AS purchasers,
  COUNT(DISTINCT b.user_id) / COUNT(DISTINCT e.user_id) AS purchase_rate,
  SUM(b.purchases) AS purchases,
  SUM(b.sales) AS sales
FROM exposure e
LEFT JOIN buyers b ON e.user_id = b.user_id
GROUP BY 1
