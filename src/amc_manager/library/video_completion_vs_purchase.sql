-- title: Video completion and purchase rate
-- question: Do users who watch DSP video ads to the end buy more often than users who only started them?
-- tables: dsp_video_events_feed, conversions
-- description: Each viewer is placed by the furthest point they reached in any video of the
--   window. Purchases of the advertisers' products come from the conversions table,
--   ad-attributed or not.
WITH viewers AS (
  SELECT
    user_id,
    SUM(video_start) AS starts,
    SUM(video_midpoint) AS midpoints,
    SUM(video_complete) AS completes
  FROM dsp_video_events_feed
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
    WHEN v.completes > 0 THEN '3: watched to the end'
    WHEN v.midpoints > 0 THEN '2: watched past the midpoint'
    WHEN v.starts > 0 THEN '1: started only'
    ELSE '0: never started'
  END AS furthest_point,
  COUNT(DISTINCT v.user_id) AS viewers,
  COUNT(DISTINCT b.user_id) AS purchasers,
  COUNT(DISTINCT b.user_id) / COUNT(DISTINCT v.user_id) AS purchase_rate,
  SUM(b.purchases) AS purchases,
  SUM(b.sales) AS sales
FROM viewers v
LEFT JOIN buyers b ON v.user_id = b.user_id
GROUP BY 1
